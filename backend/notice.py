"""The one-time notice (一次性告知单) of an application: every licence it asks for and every material with
its current status, what is still to do, and where to hand things in — as the picture and the text the
applicant receives in chat (`materials.render` draws them).

The picture also has a public URL (`/n/<token>/notice.png`), because the gateway fetches chat images
without credentials. It shows an applicant's materials, so the token expires (`NOTICE_URL_TTL_SECONDS`) and
carries an HMAC (`materials.tokens`). Before any application exists, the questionnaire's checklist gets a
notice picture of its own the same way: its token carries the package and the answers.
"""

import math
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend.applications import (
    OPERATION_LABELS,
    department_name,
    get_by_code,
    item_status,
    licence_name,
    licence_of,
    package_name,
    promised_days,
    requirements,
)
from backend.catalog import CatalogLookupError, Checklist, InvalidAnswer
from backend.domain import Domain
from backend.errors import InvalidInput, NotFound
from backend.materials import tokens
from backend.materials.render import (
    MaterialStatus,
    NoticeData,
    NoticeLicence,
    NoticeMaterial,
    SubmissionInfo,
)
from backend.models import Application, Licence
from backend.office_hours import OfficeHours
from backend.settings import Settings

# applications' material statuses → the notice's
_STATUS = {
    "missing": MaterialStatus.MISSING,
    "provided": MaterialStatus.PROVIDED,
    "needs_reupload": MaterialStatus.NEEDS_CORRECTION,
    "committed": MaterialStatus.DEFERRED,
    "pledged": MaterialStatus.COMMITTED,
}
_OUTSTANDING = (MaterialStatus.MISSING, MaterialStatus.NEEDS_CORRECTION, MaterialStatus.DEFERRED)
HOW = ["在本公众号或小程序里发送材料的照片或扫描件（推荐）", "或携带原件到综合窗口现场提交"]
# Long enough to read the notice again while gathering materials; a forwarded link dies within the week.
NOTICE_URL_TTL_SECONDS = 7 * 24 * 3600


def _licences(domain: Domain, application: Application, licence: Licence | None) -> list[NoticeLicence]:
    if application.tasks:
        pairs = [(t.matter_id, t.department_id) for t in application.tasks]
    elif application.operation == "open":
        checklist = domain.catalog.checklist(application.package_id, application.answers)
        pairs = [(item.matter_id, item.department_id) for item in checklist.licences]
    elif licence is not None:
        pairs = [(p.matter_id, p.department_id) for p in licence.permits if p.status in ("valid", "changed")]
    else:
        pairs = []
    return [
        NoticeLicence(
            name=licence_name(domain, matter_id),
            department=department_name(domain, department_id),
            promised_days=promised_days(domain, matter_id),
        )
        for matter_id, department_id in pairs
    ]


def notice_data(domain: Domain, application: Application, licence: Licence | None) -> NoticeData:
    """`licence`: the licence a change or cancellation is for (its permits are what is asked for)."""
    settings = domain.settings
    items = {m.material_id: m for m in application.materials}
    materials = []
    for r in requirements(domain, application):
        item = items.get(r.material_id)
        status = _STATUS[item_status(item)]
        materials.append(
            NoticeMaterial(
                id=r.material_id,
                name=r.name,
                key=r.key,
                status=status,
                needed_by=[licence_name(domain, m) for m in r.needed_by],
                due_date=item.commitment_deadline if item and status is MaterialStatus.DEFERRED else None,
                problem=item.problem if item and status is MaterialStatus.NEEDS_CORRECTION else None,
                # What to bring, for what is still to bring: the picture stays short enough to read in chat.
                hint=(r.description or None) if status in _OUTSTANDING else None,
            )
        )
    issued_on = domain.today()
    if application.correction_notice:
        issued = datetime.fromisoformat(str(application.correction_notice["issued_at"]))
        issued_on = issued.astimezone(ZoneInfo(settings.timezone)).date()
    name = package_name(domain, application.package_id)
    if application.operation != "open":
        name += f"（{OPERATION_LABELS[application.operation]}）"
    return NoticeData(
        package_name=name,
        application_code=application.code,
        operator_name=application.applicant_info.get("operator_name") or None,
        issued_on=issued_on,
        licences=_licences(domain, application, licence),
        materials=materials,
        submission=_submission(settings),
    )


def _submission(settings: Settings) -> SubmissionInfo:
    return SubmissionInfo(
        where=settings.service_centre_address,
        how=HOW,
        hours=OfficeHours.parse(settings.office_hours).describe(),
        phone=settings.service_hotline or None,
    )


def checklist_notice_data(domain: Domain, checklist: Checklist) -> NoticeData:
    """The notice of a questionnaire's checklist before any application exists: everything is still to
    bring, so every material is 缺少 with what to bring."""
    return NoticeData(
        package_name=checklist.package_name,
        issued_on=domain.today(),
        licences=[
            NoticeLicence(
                name=item.licence_name, department=item.department_name, promised_days=item.promised_days
            )
            for item in checklist.licences
        ],
        materials=[
            NoticeMaterial(
                id=m.material_id,
                name=m.name,
                key=m.key,
                status=MaterialStatus.MISSING,
                needed_by=[licence_name(domain, matter_id) for matter_id in m.needed_by],
                hint=m.description or None,
            )
            for m in checklist.materials
        ],
        submission=_submission(domain.settings),
    )


# --- public URLs of the picture --------------------------------------------------------------------


def _expiry(now: float | None) -> int:
    # Rounded up to the hour, so an application's URL stays the same for an hour, not a second.
    moment = (time.time() if now is None else now) + NOTICE_URL_TTL_SECONDS
    return math.ceil(moment / 3600) * 3600


def _url(token: str) -> str:
    return f"{tokens.NOTICE_PATH}{token}/notice.png"


def notice_path(settings: Settings, code: str, *, now: float | None = None) -> str:
    """The application's notice picture as a public path on the backend (the gateway joins it to its base)."""
    return _url(tokens.sign_application_notice(code, settings.signing_key, expires_at=_expiry(now)))


def checklist_notice_link(
    domain: Domain, package_id: str, answers: dict[str, Any], *, now: float | None = None
) -> tuple[str, int]:
    """The public path of a checklist's notice picture and when it stops working (Unix time)."""
    try:
        checklist = domain.catalog.checklist(package_id, answers)
    except CatalogLookupError as exc:
        raise NotFound(f"没有这个行业套餐：{package_id}", field="package_id", code="unknown_package") from exc
    except InvalidAnswer as exc:
        raise InvalidInput(exc.message, field=f"answers.{exc.field}", code="invalid_answer") from exc
    expires_at = _expiry(now)
    try:
        # The normalised answers: canonical values, only those that apply, the shortest token.
        token = tokens.sign_checklist_notice(
            package_id, dict(checklist.answers), domain.settings.signing_key, expires_at=expires_at
        )
    except ValueError as exc:
        raise InvalidInput(
            "回答内容过长，无法生成告知单图片", field="answers", code="answers_too_long"
        ) from exc
    return _url(token), expires_at


def grant_for(settings: Settings, token: str) -> tokens.NoticeGrant | None:
    return tokens.verify_notice_token(
        token, settings.signing_key, previous_keys=settings.previous_signing_keys
    )


async def shared_notice_data(
    session: AsyncSession, domain: Domain, grant: tokens.NoticeGrant
) -> NoticeData | None:
    """What a public notice URL shows now; None when there is nothing left to show (the application is
    gone, or the catalog no longer takes the checklist's answers)."""
    if grant.application_code is not None:
        try:
            application = await get_by_code(session, grant.application_code)
        except NotFound:
            return None
        licence = await licence_of(session, application)
        return notice_data(domain, application, licence)
    if grant.package_id is None:
        return None
    try:
        checklist = domain.catalog.checklist(grant.package_id, grant.answers)
    except (CatalogLookupError, InvalidAnswer):
        return None
    return checklist_notice_data(domain, checklist)
