"""The licence QR code: its token and URLs, and the licence record mapped onto the card and the public
verification page (一码覆盖).

The token is deterministic (`materials.tokens`), so the code printed on a licence never changes; the page
it opens reads the licence's *current* permits. The card picture is served under the same token
(`/v/<token>/card.png`): it shows nothing the verification page does not, so whoever may open the page
may fetch the card — which is how the WeChat gateway, fetching images without credentials, gets it.

The page is read with one Core query and kept for a moment (`PageCache`): a code scanned by many at once
(a busy shop door, a crawler) costs one query a second, not one per scan. A licence changed through this
process is dropped from the cache when that change commits; other processes show it within the TTL.
"""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from backend.applications import department_name
from backend.domain import Domain
from backend.materials import tokens
from backend.materials.render import (
    CardPermit,
    LicenceCardData,
    PermitStatus,
    VerificationData,
    VerificationPermit,
)
from backend.models import Licence, Permit
from backend.settings import Settings


def token_for(settings: Settings, number: str) -> str:
    return tokens.sign_licence(number, settings.signing_key)


def verification_url(settings: Settings, number: str) -> str:
    return tokens.verification_url(settings.public_base_url, number, settings.signing_key)


def card_path(settings: Settings, number: str) -> str:
    """The card picture's public URL, as a path on the backend (the gateway joins it to its base)."""
    return f"{tokens.VERIFY_PATH}{token_for(settings, number)}/card.png"


async def licence_for_token(session: AsyncSession, settings: Settings, token: str) -> Licence | None:
    number = tokens.verify_licence(token, settings.signing_key, previous_keys=settings.previous_signing_keys)
    if number is None:
        return None
    licence: Licence | None = await session.scalar(select(Licence).where(Licence.number == number))
    return licence


def _local(settings: Settings, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(settings.timezone))


_PAGE = (
    select(
        Licence.number,
        Licence.status,
        Licence.industry,
        Licence.operator_name,
        Licence.legal_representative,
        Licence.address,
        Licence.issued_at,
        Licence.updated_at,
        Permit.licence_name.label("permit_name"),
        Permit.department_id.label("permit_department"),
        Permit.status.label("permit_status"),
        Permit.valid_from,
        Permit.valid_until,
        Permit.updated_at.label("permit_updated_at"),
    )
    .outerjoin(Permit, Permit.licence_id == Licence.id)
    .order_by(Permit.id)
)


async def page_data(engine: AsyncEngine, domain: Domain, number: str) -> VerificationData | None:
    """What the verification page shows, read in one query without the ORM (the page is public and hot)."""
    settings = domain.settings
    async with engine.connect() as conn:
        rows = (await conn.execute(_PAGE.where(Licence.number == number))).all()
    if not rows:
        return None
    first = rows[0]
    return VerificationData(
        licence_number=first.number,
        status=PermitStatus(first.status),
        industry=first.industry,
        operator_name=first.operator_name,
        legal_representative=first.legal_representative,
        address=first.address,
        issued_on=_local(settings, first.issued_at).date(),
        issuer=settings.licence_issuer,
        permits=[
            VerificationPermit(
                name=row.permit_name,
                department=department_name(domain, row.permit_department),
                status=PermitStatus(row.permit_status),
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                updated_at=row.permit_updated_at,
            )
            for row in rows
            if row.permit_name is not None
        ],
        updated_at=first.updated_at,
    )


def card_data(domain: Domain, licence: Licence) -> LicenceCardData:
    settings = domain.settings
    return LicenceCardData(
        licence_number=licence.number,
        industry=licence.industry,
        operator_name=licence.operator_name,
        legal_representative=licence.legal_representative,
        address=licence.address,
        permits=[
            CardPermit(
                name=p.licence_name,
                department=department_name(domain, p.department_id),
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                status=PermitStatus(p.status),
            )
            for p in licence.permits
        ],
        issued_on=_local(settings, licence.issued_at).date(),
        issuer=settings.licence_issuer,
        verification_url=verification_url(settings, licence.number),
    )


class PageCache:
    """Verification data by licence number, kept for `ttl` seconds (0: not kept)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0
        self._entries: dict[str, tuple[float, VerificationData]] = {}

    def get(self, number: str) -> VerificationData | None:
        entry = self._entries.get(number)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, number: str, data: VerificationData, generation: int) -> None:
        # Read before a clear() that happened since: it may be the state before the change, so not kept.
        if self.ttl > 0 and generation == self.generation:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[number] = (time.monotonic() + self.ttl, data)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


async def cached_page_data(
    cache: PageCache, engine: AsyncEngine, domain: Domain, token: str
) -> VerificationData | None:
    settings = domain.settings
    number = tokens.verify_licence(token, settings.signing_key, previous_keys=settings.previous_signing_keys)
    if number is None:
        return None
    data = cache.get(number)
    if data is None:
        generation = cache.generation
        data = await page_data(engine, domain, number)
        if data is not None:
            cache.put(number, data, generation)
    return data


_TOUCHED = "zz_licence_touched"


def watch_licences(session_class: type[Session], cache: PageCache) -> list[tuple[str, Callable[..., None]]]:
    """Clear the cache when a transaction that wrote a licence or permit commits; returns the listeners
    (for `unwatch`)."""

    def after_flush(session: Session, _context: Any) -> None:
        if any(isinstance(o, Licence | Permit) for o in (*session.new, *session.dirty, *session.deleted)):
            session.info[_TOUCHED] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(_TOUCHED, False):
            cache.clear()

    def after_rollback(session: Session) -> None:
        session.info.pop(_TOUCHED, None)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("after_flush", after_flush),
        ("after_commit", after_commit),
        ("after_rollback", after_rollback),
    ]
    for name, listener in listeners:
        event.listen(session_class, name, listener)
    return listeners


def unwatch(session_class: type[Session], listeners: list[tuple[str, Callable[..., None]]]) -> None:
    for name, listener in listeners:
        event.remove(session_class, name, listener)
