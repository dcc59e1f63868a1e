"""The comprehensive licence (行业综合许可证): issued when every task is approved; a change or cancellation
updates the same record, so a QR code printed before the change shows the current state."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, verification
from backend.applications import department_name, licence_name, package_name
from backend.codes import new_licence_number, normalise_licence_number
from backend.domain import Domain
from backend.errors import NotFound
from backend.models import Applicant, Application, Licence, Permit, utcnow

LICENCE_STATUS_LABELS = {"valid": "有效", "cancelled": "已注销", "revoked": "已吊销"}
PERMIT_STATUS_LABELS = {"valid": "有效", "changed": "已变更", "cancelled": "已注销", "revoked": "已吊销"}
NOT_FOUND_MESSAGE = "未找到该许可证，请核对编号"


def valid_until(domain: Domain, matter_id: str, start: date) -> date | None:
    """The last day of a permit valid for the matter's `validity_years` from `start`: the day before the
    anniversary, as permits are printed (有效期 2026年12月3日至2031年12月2日); None when 长期有效."""
    matter = domain.catalog.matters.get(matter_id)
    years = matter.validity_years if matter else None
    if not years:
        return None
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # from 29 February into a year without one
        anniversary = date(start.year + years, 3, 1)
    return anniversary - timedelta(days=1)


async def finalise(session: AsyncSession, *, domain: Domain, application: Application) -> None:
    if application.operation == "open":
        await _issue(session, domain, application)
    elif application.operation == "change":
        await _change(session, domain, application)
    else:
        await _cancel(session, domain, application)


async def _issue(session: AsyncSession, domain: Domain, application: Application) -> Licence:
    today = domain.today()
    info = application.applicant_info
    package = domain.catalog.packages.get(application.package_id)
    while True:
        licence = Licence(
            number=new_licence_number(today),
            applicant_id=application.applicant_id,
            application_id=application.id,
            package_id=application.package_id,
            industry=package.industry if package else application.package_id,
            operator_name=info.get("operator_name", ""),
            legal_representative=info.get("legal_representative", ""),
            address=info.get("address", ""),
            status="valid",
        )
        licence.permits = [
            Permit(
                matter_id=t.matter_id,
                licence_name=licence_name(domain, t.matter_id),
                department_id=t.department_id,
                status="valid",
                valid_from=today,
                valid_until=valid_until(domain, t.matter_id, today),
            )
            for t in application.tasks
        ]
        session.add(licence)
        try:
            async with session.begin_nested():
                await session.flush()
            break
        except IntegrityError:  # a number collision: draw again
            session.expunge(licence)
    application.licence_id = licence.id
    events.record(
        session,
        "licence.issued",
        applicant=application.applicant.key,
        application_code=application.code,
        licence_number=licence.number,
        package_name=package_name(domain, application.package_id),
        permits=[p.licence_name for p in licence.permits],
        card_url=verification.card_path(domain.settings, licence.number),
        verification_url=verification.verification_url(domain.settings, licence.number),
    )
    return licence


async def _change(session: AsyncSession, domain: Domain, application: Application) -> None:
    licence = await session.get(Licence, application.licence_id)
    assert licence is not None
    now = utcnow()
    for name in ("operator_name", "legal_representative", "address"):
        if application.changes.get(name):
            setattr(licence, name, application.changes[name])
    changed = {t.matter_id for t in application.tasks}
    for permit in licence.permits:
        if permit.matter_id in changed and permit.status in ("valid", "changed"):
            permit.status = "changed"
            permit.updated_at = now
    licence.revision += 1
    licence.updated_at = now
    events.record(
        session,
        "licence.changed",
        applicant=application.applicant.key,
        application_code=application.code,
        licence_number=licence.number,
        changes=application.changes,
        card_url=verification.card_path(domain.settings, licence.number),
    )


async def _cancel(session: AsyncSession, domain: Domain, application: Application) -> None:
    licence = await session.get(Licence, application.licence_id)
    assert licence is not None
    now = utcnow()
    for permit in licence.permits:
        permit.status = "cancelled"
        permit.updated_at = now
    licence.status = "cancelled"
    licence.revision += 1
    licence.updated_at = now
    events.record(
        session,
        "licence.cancelled",
        applicant=application.applicant.key,
        application_code=application.code,
        licence_number=licence.number,
    )


async def get_for_applicant(session: AsyncSession, *, applicant_key: str, number: str) -> Licence:
    normalised = normalise_licence_number(number)
    licence = await session.scalar(
        select(Licence)
        .join(Applicant, Licence.applicant_id == Applicant.id)
        .where(Licence.number == (normalised or ""), Applicant.key == applicant_key)
    )
    if licence is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return licence


async def list_for_applicant(session: AsyncSession, *, applicant_key: str) -> list[Licence]:
    return list(
        await session.scalars(
            select(Licence)
            .join(Applicant, Licence.applicant_id == Applicant.id)
            .where(Applicant.key == applicant_key)
            .order_by(Licence.issued_at.desc())
        )
    )


def permit_department(domain: Domain, permit: Permit) -> str:
    return department_name(domain, permit.department_id)
