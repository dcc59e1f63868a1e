"""Database records → API response models (the Chinese labels a person reads are added here)."""

from collections.abc import Mapping
from datetime import date

from backend import commitments, files, notice, verification
from backend.applications import (
    MATERIAL_STATUS_LABELS,
    OPERATION_LABELS,
    STATUS_LABELS,
    application_promised_days,
    commitment_choices,
    department_name,
    is_overdue,
    item_status,
    licence_name,
    missing_key_materials,
    package_name,
    requirements,
)
from backend.domain import Domain
from backend.licences import LICENCE_STATUS_LABELS, PERMIT_STATUS_LABELS
from backend.models import Application, DepartmentTask, Licence, StoredFile
from backend.office_hours import day_label
from backend.schemas import (
    ApplicantInfo,
    ApplicationOut,
    CorrectionNotice,
    FileOut,
    LicenceOut,
    MaterialFile,
    MaterialItem,
    PermitOut,
    ReviewTaskOut,
    TaskOut,
)
from backend.settings import Settings
from backend.tasks import TASK_STATUS_LABELS


def task_out(domain: Domain, task: DepartmentTask, today: date) -> TaskOut:
    return TaskOut(
        id=task.id,
        matter_id=task.matter_id,
        licence_name=licence_name(domain, task.matter_id),
        department_id=task.department_id,
        department_name=department_name(domain, task.department_id),
        status=task.status,
        status_label=TASK_STATUS_LABELS[task.status],
        round=task.round,
        started_on=task.started_on,
        due_date=task.due_date,
        overdue=is_overdue(task, today),
        reason=task.reason,
        problems=list(task.problems),
        inspection_date=task.inspection_date,
        inspection_day=day_label(task.inspection_date) if task.inspection_date else None,
        decided_at=task.decided_at,
    )


def review_task_out(
    domain: Domain, task: DepartmentTask, application: Application, today: date
) -> ReviewTaskOut:
    news = commitments.review_news(domain, application, task, today)
    names: dict[str, str] = {}
    if news.overdue or news.delivered:
        names = {r.material_id: r.name for r in requirements(domain, application)}
    return ReviewTaskOut(
        **task_out(domain, task, today).model_dump(),
        application_code=application.code,
        package_name=package_name(domain, application.package_id),
        operator_name=application.applicant_info.get("operator_name"),
        overdue_materials=[names.get(m, m) for m in news.overdue],
        new_materials=[names.get(m, m) for m in news.delivered],
    )


def file_out(settings: Settings, stored: StoredFile, *, subject: str) -> FileOut:
    links = material_file(settings, stored, subject=subject)
    return FileOut(
        file_id=stored.id,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        warnings=files.warning_messages(stored),
        url=links.url,
        thumbnail_url=links.thumbnail_url,
    )


def material_file(settings: Settings, stored: StoredFile, *, subject: str) -> MaterialFile:
    return MaterialFile(
        file_id=stored.id,
        content_type=stored.content_type,
        url=files.url_for(settings, stored.id, subject=subject),
        thumbnail_url=files.url_for(settings, stored.id, subject=subject, variant=files.THUMBNAIL)
        if stored.thumbnail_sha256
        else None,
        warnings=files.warning_messages(stored),
    )


def application_out(
    domain: Domain,
    application: Application,
    licence_number: str | None,
    *,
    file_links: Mapping[str, MaterialFile] | None = None,
    notice_text: str | None = None,
) -> ApplicationOut:
    """`file_links`: signed links of the stored files by id (whom they are signed for is the caller's choice);
    `notice_text`: the one-time notice as text, added to the correction notice when there is one."""
    today = domain.today()
    links = file_links or {}
    items = {m.material_id: m for m in application.materials}
    materials = []
    for r in requirements(domain, application):
        item = items.get(r.material_id)
        status = item_status(item)
        choices = commitment_choices(domain, application, r, item)
        materials.append(
            MaterialItem(
                material_id=r.material_id,
                name=r.name,
                description=r.description,
                key=r.key,
                commitment_covers=r.commitment_covers,
                needed_by=r.needed_by,
                reasons=r.reasons,
                status=status,
                status_label=MATERIAL_STATUS_LABELS[status],
                file_ids=list(item.file_ids) if item else [],
                files=[links[f] for f in item.file_ids if f in links] if item else [],
                commitment=item.commitment if item else None,
                commitment_deadline=item.commitment_deadline if item else None,
                commitment_overdue=item is not None and commitments.is_overdue(item, today),
                delivered_at=item.delivered_at if item else None,
                problem=item.problem if item else None,
                can_supply_later=choices.later,
                can_pledge=choices.pledge,
                supply_later_by=choices.later_deadline,
            )
        )
    return ApplicationOut(
        code=application.code,
        package_id=application.package_id,
        package_name=package_name(domain, application.package_id),
        operation=application.operation,
        operation_label=OPERATION_LABELS[application.operation],
        status=application.status,
        status_label=STATUS_LABELS[application.status],
        answers=application.answers,
        applicant=ApplicantInfo.model_validate(application.applicant_info),
        changes=application.changes,
        licence_number=licence_number,
        materials=materials,
        missing_key_materials=missing_key_materials(domain, application),
        tasks=[task_out(domain, t, today) for t in application.tasks],
        correction_notice=CorrectionNotice.model_validate(
            {**application.correction_notice, "notice_text": notice_text}
        )
        if application.correction_notice
        else None,
        promised_days=application_promised_days(domain, application),
        created_at=application.created_at,
        submitted_at=application.submitted_at,
        accepted_at=application.accepted_at,
        completed_at=application.completed_at,
        previous_code=application.previous_code,
        notice_url=notice.notice_path(domain.settings, application.code),
    )


def licence_out(domain: Domain, licence: Licence) -> LicenceOut:
    settings = domain.settings
    return LicenceOut(
        verification_url=verification.verification_url(settings, licence.number),
        card_url=verification.card_path(settings, licence.number),
        number=licence.number,
        status=licence.status,
        status_label=LICENCE_STATUS_LABELS[licence.status],
        industry=licence.industry,
        operator_name=licence.operator_name,
        legal_representative=licence.legal_representative,
        address=licence.address,
        issued_at=licence.issued_at,
        updated_at=licence.updated_at,
        revision=licence.revision,
        permits=[
            PermitOut(
                matter_id=p.matter_id,
                licence_name=p.licence_name,
                department_name=department_name(domain, p.department_id),
                status=p.status,
                status_label=PERMIT_STATUS_LABELS[p.status],
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                updated_at=p.updated_at,
            )
            for p in licence.permits
        ],
    )
