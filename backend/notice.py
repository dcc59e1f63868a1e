"""The one-time notice (一次性告知单) of an application: every licence it asks for and every material with
its current status, what is still to do, and where to hand things in — as the picture and the text the
applicant receives in chat (`materials.render` draws them)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.applications import (
    OPERATION_LABELS,
    department_name,
    item_status,
    licence_name,
    package_name,
    promised_days,
    requirements,
)
from backend.domain import Domain
from backend.materials.render import (
    MaterialStatus,
    NoticeData,
    NoticeLicence,
    NoticeMaterial,
    SubmissionInfo,
)
from backend.models import Application, Licence
from backend.office_hours import OfficeHours

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
        submission=SubmissionInfo(
            where=settings.service_centre_address,
            how=HOW,
            hours=OfficeHours.parse(settings.office_hours).describe(),
            phone=settings.service_hotline or None,
        ),
    )
