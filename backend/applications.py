"""Applications: create, fill in, attach materials, submit (一窗受理 with a one-time correction notice), and
the status a person reads, derived from the department tasks."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, events
from backend.catalog import CatalogLookupError, InvalidAnswer, overall_days
from backend.codes import new_application_code, normalise_application_code, normalise_licence_number
from backend.domain import Domain
from backend.errors import InvalidInput, InvalidState, NotFound
from backend.models import (
    Applicant,
    Application,
    ApplicationMaterial,
    DepartmentTask,
    Licence,
    StoredFile,
    utcnow,
)
from backend.office_hours import day_label
from backend.schemas import (
    ApplicantInfo,
    ApplicationCreate,
    ApplicationUpdate,
    CommitmentCreate,
    CorrectionItem,
    CorrectionNotice,
    MaterialAttach,
)

STATUS_LABELS = {
    "draft": "草稿",
    "needs_correction": "需补正",
    "accepted": "已受理",
    "in_review": "审批中",
    "completed": "已办结",
    "rejected": "不予许可",
}
OPERATION_LABELS = {"open": "开办", "change": "变更", "cancel": "注销"}
MATERIAL_STATUS_LABELS = {
    "missing": "未提交",
    "provided": "已提交",
    "needs_reupload": "需重新提交",
    "committed": "容缺后补",
    "pledged": "告知承诺",
}
# What an opening application must say about the business before it can be accepted.
REQUIRED_FIELDS = {
    "operator_name": "经营者名称",
    "legal_representative": "法定代表人（负责人）",
    "address": "经营场所",
}
NOT_FOUND_MESSAGE = "未找到该申请，请核对统一编码"


@dataclass(frozen=True)
class Requirement:
    """A material the application needs, from the catalog checklist or the lifecycle list."""

    material_id: str
    name: str
    description: str
    key: bool
    commitment_covers: bool
    needed_by: list[str]
    reasons: list[str]


@dataclass(frozen=True)
class TaskPlan:
    matter_id: str
    department_id: str
    registration_first: bool
    promised_days: int


# --- lookups -------------------------------------------------------------------------------------------


async def applicant_for(session: AsyncSession, key: str) -> Applicant:
    applicant = await session.scalar(select(Applicant).where(Applicant.key == key))
    if applicant is None:
        applicant = Applicant(key=key)
        try:
            # begin_nested() flushes what is pending first, so the new row must be added inside it.
            async with session.begin_nested():
                session.add(applicant)
                await session.flush()
        except IntegrityError:  # created concurrently by another request of the same person
            applicant = await session.scalar(select(Applicant).where(Applicant.key == key))
            assert applicant is not None
    return applicant


async def get_for_applicant(
    session: AsyncSession, *, applicant_key: str, code: str, for_update: bool = False
) -> Application:
    """Another applicant's application answers exactly like a missing one, so codes reveal nothing."""
    normalised = normalise_application_code(code)
    if normalised is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    query = (
        select(Application)
        .join(Applicant, Application.applicant_id == Applicant.id)
        .where(Application.code == normalised, Applicant.key == applicant_key)
    )
    if for_update:
        query = query.with_for_update(of=Application)
    application = await session.scalar(query)
    if application is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return application


async def get_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Application:
    normalised = normalise_application_code(code)
    query = select(Application).where(Application.code == (normalised or ""))
    if for_update:
        query = query.with_for_update(of=Application)
    application = await session.scalar(query)
    if application is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return application


async def list_for_applicant(session: AsyncSession, *, applicant_key: str) -> list[Application]:
    rows = await session.scalars(
        select(Application)
        .join(Applicant, Application.applicant_id == Applicant.id)
        .where(Applicant.key == applicant_key)
        .order_by(Application.created_at.desc())
        .limit(50)
    )
    return list(rows)


# --- requirements ---------------------------------------------------------------------------------------


def requirements(domain: Domain, application: Application) -> list[Requirement]:
    if application.operation == "open":
        checklist = domain.catalog.checklist(application.package_id, application.answers)
        return [
            Requirement(
                m.material_id,
                m.name,
                m.description,
                m.key,
                m.commitment_covers,
                list(m.needed_by),
                list(m.reasons),
            )
            for m in checklist.materials
        ]
    operation: Literal["change", "cancel"] = "change" if application.operation == "change" else "cancel"
    return [
        Requirement(m.id, m.name, m.description, m.key, m.commitment_covers, [], [])
        for m in domain.lifecycle.for_operation(operation)
    ]


def unanswered_questions(domain: Domain, application: Application) -> list[str]:
    if application.operation != "open":
        return []
    return [q.text for q in domain.catalog.checklist(application.package_id, application.answers).unanswered]


def item_status(item: ApplicationMaterial | None) -> str:
    return "missing" if item is None else item.status


def is_satisfied(item: ApplicationMaterial | None) -> bool:
    return item is not None and item.status in ("provided", "committed", "pledged")


def missing_key_materials(domain: Domain, application: Application) -> list[str]:
    items = {m.material_id: m for m in application.materials}
    return [
        r.material_id
        for r in requirements(domain, application)
        if r.key and not is_satisfied(items.get(r.material_id))
    ]


# --- create / update -------------------------------------------------------------------------------------


async def create(
    session: AsyncSession, *, domain: Domain, applicant_key: str, data: ApplicationCreate
) -> Application:
    applicant = await applicant_for(session, applicant_key)
    answers: dict[str, Any] = {}
    licence: Licence | None = None
    if data.operation == "open":
        if data.package_id is None:
            raise InvalidInput("请选择要办理的行业（package_id）", field="package_id")
        answers = _validated_answers(domain, data.package_id, data.answers)
        package_id = data.package_id
    else:
        licence = await _own_licence(session, applicant, data.licence_number)
        if licence.status != "valid":
            raise InvalidState("该许可证已注销或吊销，不能再办理变更或注销")
        package_id = licence.package_id
        if data.operation == "change" and not (data.changes and data.changes.model_dump(exclude_none=True)):
            raise InvalidInput("请说明要变更的内容（地址、法定代表人或名称）", field="changes")
    application = Application(
        code=new_application_code(domain.today()),
        applicant_id=applicant.id,
        package_id=package_id,
        operation=data.operation,
        status="draft",
        answers=answers,
        applicant_info=_initial_info(data.applicant, licence),
        changes=data.changes.model_dump(exclude_none=True) if data.changes else {},
        licence_id=licence.id if licence else None,
        materials=[],
        tasks=[],
    )
    session.add(application)
    await session.flush()
    events.record(
        session,
        "application.created",
        applicant=applicant_key,
        application_code=application.code,
        operation=data.operation,
        package_id=package_id,
    )
    await session.commit()
    return application


def _initial_info(info: ApplicantInfo, licence: Licence | None) -> dict[str, Any]:
    values = info.model_dump(exclude_none=True)
    if licence is not None:
        values = {
            "operator_name": licence.operator_name,
            "legal_representative": licence.legal_representative,
            "address": licence.address,
            **values,
        }
    return values


async def _own_licence(session: AsyncSession, applicant: Applicant, number: str | None) -> Licence:
    normalised = normalise_licence_number(number or "")
    if normalised is None:
        raise InvalidInput("请提供要变更或注销的许可证编号（如 XK-2026-8K3M9Q）", field="licence_number")
    licence = await session.scalar(
        select(Licence).where(Licence.number == normalised, Licence.applicant_id == applicant.id)
    )
    if licence is None:
        raise NotFound("未找到该许可证，请核对编号", field="licence_number")
    return licence


def _validated_answers(domain: Domain, package_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(domain.catalog.checklist(package_id, answers).answers)
    except CatalogLookupError as exc:
        raise NotFound(f"没有这个行业套餐：{package_id}", field="package_id", code="unknown_package") from exc
    except InvalidAnswer as exc:
        raise InvalidInput(exc.message, field=f"answers.{exc.field}", code="invalid_answer") from exc


EDITABLE = ("draft", "needs_correction")
# Accepted on the promise of materials supplied later (容缺后补): those may arrive until the promise is kept,
# also once the licence is issued (reminders go out then too), never after a refusal.
DELIVERABLE = ("accepted", "in_review", "completed")


async def _editable(session: AsyncSession, applicant_key: str, code: str, *, refusal: str) -> Application:
    """The application, locked, while it may still change; `refusal` says what cannot be done otherwise."""
    application = await get_for_applicant(session, applicant_key=applicant_key, code=code, for_update=True)
    if application.status not in EDITABLE:
        raise InvalidState(f"申请当前为“{STATUS_LABELS[application.status]}”，{refusal}")
    return application


async def update(
    session: AsyncSession, *, domain: Domain, applicant_key: str, code: str, data: ApplicationUpdate
) -> Application:
    application = await _editable(session, applicant_key, code, refusal="不能再修改")
    if data.answers is not None:
        if application.operation != "open":
            raise InvalidInput("变更和注销申请没有问卷", field="answers")
        application.answers = _validated_answers(
            domain, application.package_id, {**application.answers, **data.answers}
        )
    if data.applicant is not None:
        application.applicant_info = {
            **application.applicant_info,
            **data.applicant.model_dump(exclude_none=True),
        }
    if data.changes is not None:
        if application.operation != "change":
            raise InvalidInput("只有变更申请可以填写变更内容", field="changes")
        application.changes = {**application.changes, **data.changes.model_dump(exclude_none=True)}
    await session.commit()
    return application


# --- materials ------------------------------------------------------------------------------------------


def _requirement(domain: Domain, application: Application, material_id: str) -> Requirement:
    for requirement in requirements(domain, application):
        if requirement.material_id == material_id:
            return requirement
    raise InvalidInput(f"本申请不需要材料“{material_id}”", field="material_id", code="unknown_material")


def _item(application: Application, material_id: str) -> ApplicationMaterial:
    for item in application.materials:
        if item.material_id == material_id:
            return item
    item = ApplicationMaterial(material_id=material_id, status="missing", file_ids=[])
    application.materials.append(item)
    return item


async def attach_material(
    session: AsyncSession, *, domain: Domain, applicant_key: str, code: str, data: MaterialAttach
) -> Application:
    application = await get_for_applicant(session, applicant_key=applicant_key, code=code, for_update=True)
    if application.status not in EDITABLE and application.status not in DELIVERABLE:
        raise InvalidState(f"申请当前为“{STATUS_LABELS[application.status]}”，暂不需要提交材料")
    requirement = _requirement(domain, application, data.material_id)
    delivered = _keeps_promise(application, requirement, data)
    stored: StoredFile | None = None
    if data.file_id is not None:
        stored = await session.get(StoredFile, data.file_id)
        if stored is None or stored.owner != applicant_key:
            raise NotFound("未找到该文件，请重新上传", field="file_id")
    item = _item(application, data.material_id)
    promised_by = item.commitment_deadline
    superseded: list[str] = []
    if stored is not None:
        replaced = await _replaced_by(session, application, item, stored)
        if replaced:
            # A material holds several pages, but some files are one earlier hand-in that the next file
            # starts afresh (`_replaced_by`). Nothing is lost: the old files stay stored and are named in
            # the event, a copy stays listed on the refused application, and the files found wanting on
            # the task's problem.
            superseded = [f for f in replaced if f != stored.id]
            item.file_ids = [stored.id]
        elif stored.id not in item.file_ids:
            item.file_ids = [*item.file_ids, stored.id]
    item.status = "provided"
    item.commitment = None
    item.commitment_deadline = None
    item.problem = None
    if delivered:
        item.delivered_at = utcnow()  # the reviewers of the tasks needing it see it as new
    if data.note is not None:
        item.note = data.note
    # A kept promise says which material and by when it was due, for whoever reads the delivery.
    promise = (
        {"material_name": requirement.name, "deadline": promised_by.isoformat() if promised_by else None}
        if delivered
        else {}
    )
    events.record(
        session,
        "material.delivered" if delivered else "material.attached",
        applicant=applicant_key,
        application_code=application.code,
        material_id=data.material_id,
        file_id=data.file_id,
        **promise,
        **({"superseded_file_ids": superseded} if superseded else {}),
    )
    await session.commit()
    return application


async def _replaced_by(
    session: AsyncSession, application: Application, item: ApplicationMaterial, new: StoredFile
) -> list[str]:
    """The files of `item` that the file `new` takes the place of, else [] (it is one more page): an
    earlier hand-in (`_earlier_hand_in`), or photos that all came with quality warnings when `new` came
    with none — the retake the assistant asked for, which reviewers should see instead of the blurred
    photo, not beside it."""
    earlier = await _earlier_hand_in(session, application, item)
    if earlier or new.warnings or not item.file_ids:
        return earlier
    rows = await session.scalars(select(StoredFile).where(StoredFile.id.in_(item.file_ids)))
    warned = {row.id for row in rows if row.warnings}
    return list(item.file_ids) if warned.issuperset(item.file_ids) else []


async def _earlier_hand_in(
    session: AsyncSession, application: Application, item: ApplicationMaterial
) -> list[str]:
    """The files of `item` while they are still exactly an earlier hand-in that the next file replaces,
    else []: the files a department found wanting when it asked for the material again, or those copied
    from the refused application."""
    if not item.file_ids:
        return []
    if any(
        problem.get("file_ids") == item.file_ids for problem in _requests_for(application, item.material_id)
    ):
        return list(item.file_ids)
    return await _carried_files(session, application, item)


async def _carried_files(
    session: AsyncSession, application: Application, item: ApplicationMaterial
) -> list[str]:
    """The files of `item` while they are still exactly those copied from the refused application
    (`reapply`), else []. Derived rather than stored: a refused application never changes again, so its
    list is the copy as it was made."""
    if application.previous_code is None or not item.file_ids:
        return []
    copied = await session.scalar(
        select(ApplicationMaterial.file_ids)
        .join(Application, ApplicationMaterial.application_id == Application.id)
        .where(
            Application.code == application.previous_code,
            ApplicationMaterial.material_id == item.material_id,
        )
    )
    return list(item.file_ids) if copied == item.file_ids else []


def _keeps_promise(application: Application, requirement: Requirement, data: MaterialAttach) -> bool:
    """Whether the material was promised for later (容缺后补) on an application accepted on that promise:
    worth its own event, and taken only as a file the departments can see. Once accepted, nothing else
    is taken."""
    current = next((m for m in application.materials if m.material_id == requirement.material_id), None)
    keeps = item_status(current) == "committed" and application.accepted_at is not None
    if application.status in DELIVERABLE and not keeps:
        raise InvalidState(
            f"申请当前为“{STATUS_LABELS[application.status]}”，只需补交承诺容缺后补的材料，"
            f"“{requirement.name}”无需再提交",
            field="material_id",
            code="material_not_committed",
        )
    if keeps and data.file_id is None:
        raise InvalidInput(
            f"补交“{requirement.name}”请上传照片或扫描件", field="file_id", code="file_required"
        )
    return keeps


# --- taking a file back ----------------------------------------------------------------------------------

FILE_NOT_FOUND = "未找到该材料的这份文件，可能已经删除"


async def remove_material_file(
    session: AsyncSession,
    *,
    domain: Domain,
    applicant_key: str,
    code: str,
    material_id: str,
    file_id: str,
) -> Application:
    """Take back a file handed in for a material (a photo sent by mistake). Before acceptance any file;
    during a department's correction only what was handed in since for a material it asked for again:
    what the departments have reviewed stays as they saw it. The material lets go of the file; the stored
    file stays (the record of what was sent, and it may be filed elsewhere too)."""
    application = await get_for_applicant(session, applicant_key=applicant_key, code=code, for_update=True)
    names = {r.material_id: r.name for r in requirements(domain, application)}
    item = next((m for m in application.materials if m.material_id == material_id), None)
    if material_id not in names or item is None or file_id not in item.file_ids:
        raise NotFound(FILE_NOT_FOUND)
    name = names[material_id]
    asked = _asked_again(application, material_id)
    if application.status not in EDITABLE:
        label = STATUS_LABELS[application.status]
        raise InvalidState(f"申请当前为“{label}”，材料已交审批部门，文件不能再删除")
    if application.tasks and asked is None:
        raise InvalidState(f"审批部门没有要求重新提交“{name}”，已交审批部门的文件不能再删除")
    if asked is not None and item.status == "needs_reupload":
        # Nothing new handed in yet: these are the files found wanting, and the next file replaces them.
        raise InvalidState(
            f"“{name}”现有的文件是审批部门审核过并要求重新提交的，不能删除；直接上传新的照片或扫描件即可替换"
        )
    item.file_ids = [f for f in item.file_ids if f != file_id]
    if not item.file_ids:
        if asked is not None:
            # Back to what the department asked for, so the application cannot be resubmitted without it
            # and the next file replaces the files found wanting again.
            item.status = "needs_reupload"
            item.file_ids = list(asked.get("file_ids") or [])
            item.problem = asked.get("problem")
        else:
            item.status = "missing"
            item.problem = None
    events.record(
        session,
        "material.file_removed",
        applicant=applicant_key,
        application_code=application.code,
        material_id=material_id,
        material_name=name,
        file_id=file_id,
        status=item.status,
        file_ids=list(item.file_ids),
    )
    audit.record(
        session,
        actor=f"applicant:{applicant_key}",
        action="material.file_removed",
        target=f"file:{file_id}",
        application_code=application.code,
        material_id=material_id,
    )
    await session.commit()
    return application


def _requests_for(application: Application, material_id: str) -> Iterator[dict[str, Any]]:
    """The problems of open correction requests that name the material (their `file_ids` were found
    wanting)."""
    for task in application.tasks:
        if task.status == "correction_requested":
            yield from (problem for problem in task.problems if problem["material_id"] == material_id)


def _asked_again(application: Application, material_id: str) -> dict[str, Any] | None:
    return next(_requests_for(application, material_id), None)


@dataclass(frozen=True)
class CommitmentChoices:
    """What the applicant may choose now instead of handing a material in: 容缺后补 (`later`, due by
    `later_deadline`) and 告知承诺 (`pledge`). `commit_material` refuses what is not offered here."""

    later: bool
    pledge: bool
    later_deadline: date | None


def later_deadline(domain: Domain) -> date:
    """The deadline of a material promised for later (容缺后补) today."""
    return domain.calendar.add_working_days(domain.today(), domain.settings.commitment_working_days)


def commitment_choices(
    domain: Domain, application: Application, requirement: Requirement, item: ApplicationMaterial | None
) -> CommitmentChoices:
    # Before acceptance only; never for what a department asked to have again.
    open_ = application.status in EDITABLE and item_status(item) != "needs_reupload"
    later = open_ and not requirement.key
    # Promised already: promising again keeps the first deadline (`commit_material`).
    kept = item.commitment_deadline if item is not None and item.status == "committed" else None
    return CommitmentChoices(
        later=later,
        pledge=open_ and requirement.commitment_covers,
        later_deadline=(kept or later_deadline(domain)) if later else None,
    )


async def commit_material(
    session: AsyncSession, *, domain: Domain, applicant_key: str, code: str, data: CommitmentCreate
) -> tuple[Application, str]:
    """The application and what to tell the applicant. The same promise made again changes nothing: a
    material promised for later keeps the deadline it was first given (asking again must not buy time)."""
    application = await _editable(session, applicant_key, code, refusal="不能再选择容缺或承诺")
    requirement = _requirement(domain, application, data.material_id)
    item = _item(application, data.material_id)
    if item.commitment == data.kind and item.status == ("committed" if data.kind == "later" else "pledged"):
        await session.commit()
        if item.commitment_deadline is not None:
            due = day_label(item.commitment_deadline)
            name = requirement.name
            return application, f"“{name}”此前已承诺容缺后补，补交期限仍为 {due}，不因再次承诺而顺延。"
        return application, f"“{requirement.name}”此前已选择告知承诺，无需重复承诺。"
    if item.status == "needs_reupload":
        # A department asked for exactly this material: a promise cannot stand in for it.
        raise InvalidInput(
            f"“{requirement.name}”是审批部门要求补正的材料，不能容缺后补或承诺，请重新提交",
            field="material_id",
            code="correction_requested",
        )
    if data.kind == "later":
        if requirement.key:
            raise InvalidInput(
                f"“{requirement.name}”是关键材料，不能容缺后补，请先提交",
                field="material_id",
                code="key_material",
            )
        item.status = "committed"
        item.commitment_deadline = later_deadline(domain)
    else:
        if not requirement.commitment_covers:
            raise InvalidInput(
                f"“{requirement.name}”不适用告知承诺，请提交材料",
                field="material_id",
                code="pledge_not_allowed",
            )
        item.status = "pledged"
        item.commitment_deadline = None
    item.commitment = data.kind
    events.record(
        session,
        "material.committed",
        applicant=applicant_key,
        application_code=application.code,
        material_id=data.material_id,
        kind=data.kind,
        deadline=item.commitment_deadline.isoformat() if item.commitment_deadline else None,
    )
    await session.commit()
    if item.commitment_deadline is not None:
        return application, (
            f"已登记容缺后补：“{requirement.name}”请在 {day_label(item.commitment_deadline)} 前补交。"
        )
    return application, f"已登记告知承诺：“{requirement.name}”以书面承诺代替提交。"


# --- submit ---------------------------------------------------------------------------------------------


async def submit(session: AsyncSession, *, domain: Domain, applicant_key: str, code: str) -> Application:
    application = await get_for_applicant(session, applicant_key=applicant_key, code=code, for_update=True)
    if application.tasks and application.status == "needs_correction":
        return await _resubmit(session, domain=domain, application=application, applicant_key=applicant_key)
    if application.status not in EDITABLE:
        raise InvalidState(f"申请当前为“{STATUS_LABELS[application.status]}”，无需再次提交")
    now = utcnow()
    application.submitted_at = now
    notice = _completeness_notice(domain, application, now)
    if notice is not None:
        from backend.notice import notice_path  # backend.notice builds on this module

        application.status = "needs_correction"
        application.correction_notice = notice.model_dump(mode="json")
        events.record(
            session,
            "application.correction_required",
            applicant=applicant_key,
            application_code=application.code,
            correction_notice=application.correction_notice,
            # the picture, for a person who is told later, outside the conversation
            notice_url=notice_path(domain.settings, application.code),
        )
        await session.commit()
        return application
    application.correction_notice = None
    application.accepted_at = now
    await _fan_out(session, domain, application)
    application.status = derive_status(application)
    events.record(
        session,
        "application.accepted",
        applicant=applicant_key,
        application_code=application.code,
        operation=application.operation,
        package_name=package_name(domain, application.package_id),
        promised_days=application_promised_days(domain, application),
        tasks=[task_summary(domain, t) for t in application.tasks],
    )
    await session.commit()
    return application


def _completeness_notice(domain: Domain, application: Application, now: datetime) -> CorrectionNotice | None:
    items = {m.material_id: m for m in application.materials}
    missing = [
        CorrectionItem(
            material_id=r.material_id,
            name=r.name,
            description=r.description,
            needed_by=r.needed_by,
            problem=(items[r.material_id].problem or "需重新提交")
            if r.material_id in items and items[r.material_id].status == "needs_reupload"
            else "尚未提交",
            can_supply_later=not r.key,
            can_pledge=r.commitment_covers,
        )
        for r in requirements(domain, application)
        if not is_satisfied(items.get(r.material_id))
    ]
    unanswered = unanswered_questions(domain, application)
    fields = [
        label
        for name, label in REQUIRED_FIELDS.items()
        if application.operation == "open" and not application.applicant_info.get(name)
    ]
    if not (missing or unanswered or fields):
        return None
    parts = []
    if missing:
        parts.append("还需提交：" + "、".join(i.name for i in missing))
    if unanswered:
        parts.append("还需回答：" + "；".join(unanswered))
    if fields:
        parts.append("还需填写：" + "、".join(fields))
    return CorrectionNotice(
        issued_at=now,
        items=missing,
        unanswered=unanswered,
        missing_fields=fields,
        message="一次性告知：" + "。".join(parts) + "。补齐后即可受理。",
    )


def _task_plans(domain: Domain, application: Application, licence: Licence | None) -> list[TaskPlan]:
    catalog = domain.catalog
    if application.operation == "open":
        return [
            TaskPlan(item.matter_id, item.department_id, item.registration_first, item.promised_days)
            for item in catalog.checklist(application.package_id, application.answers).licences
        ]
    assert licence is not None
    plans = []
    for permit in licence.permits:
        if permit.status in ("valid", "changed"):
            plans.append(
                TaskPlan(
                    permit.matter_id,
                    permit.department_id,
                    _registration_first(domain, permit.matter_id),
                    promised_days(domain, permit.matter_id),
                )
            )
    return plans


async def licence_of(session: AsyncSession, application: Application) -> Licence | None:
    """The licence an application changes or cancels, or the one it was issued (None for a new opening
    still under way)."""
    return await session.get(Licence, application.licence_id) if application.licence_id else None


async def _fan_out(session: AsyncSession, domain: Domain, application: Application) -> None:
    """One task per licence, all at once (并行办理); registration goes first where the package has it
    (linyi-2018-188 §三(二): the other departments work from the registration data)."""
    licence = await licence_of(session, application)
    plans = _task_plans(domain, application, licence)
    registration_first = any(p.registration_first for p in plans)
    today = domain.today()
    for plan in plans:
        waits = registration_first and not plan.registration_first
        task = DepartmentTask(
            matter_id=plan.matter_id,
            department_id=plan.department_id,
            status="waiting" if waits else "pending",
            round=1,
            problems=[],
            started_on=None if waits else today,
            due_date=None if waits else domain.calendar.add_working_days(today, plan.promised_days),
        )
        application.tasks.append(task)
    await session.flush()


async def _resubmit(
    session: AsyncSession, *, domain: Domain, application: Application, applicant_key: str
) -> Application:
    returned = [t for t in application.tasks if t.status == "correction_requested"]
    items = {m.material_id: m for m in application.materials}
    still_missing = [
        p["material_id"]
        for t in returned
        for p in t.problems
        if items.get(p["material_id"]) is None or items[p["material_id"]].status == "needs_reupload"
    ]
    if still_missing:
        names = {r.material_id: r.name for r in requirements(domain, application)}
        raise InvalidState(
            "请先重新提交：" + "、".join(dict.fromkeys(names.get(m, m) for m in still_missing)),
            code="materials_still_missing",
        )
    today = domain.today()
    for task in returned:
        task.status = "pending"
        task.round += 1
        task.started_on = today
        task.due_date = domain.calendar.add_working_days(today, promised_days(domain, task.matter_id))
        task.problems = []
        task.reason = None
    application.correction_notice = None
    application.status = derive_status(application)
    events.record(
        session,
        "application.resubmitted",
        applicant=applicant_key,
        application_code=application.code,
        tasks=[task_summary(domain, t) for t in returned],
    )
    await session.commit()
    return application


# --- reapplying after a refusal ----------------------------------------------------------------------------

# Materials carried into a reapplication: what was handed in, as if handed in again. Promises (容缺后补,
# 告知承诺) belong to the refused application and are made again when the new one is submitted.
CARRIED = ("provided", "needs_reupload")


async def reapply(
    session: AsyncSession, *, domain: Domain, applicant_key: str, code: str
) -> tuple[Application, bool]:
    """A new draft from a refused application (重新申请): the same operation, package, answers, business
    details and handed-in materials, for the applicant to put right what was refused and submit again.
    Asked again, the same draft is returned; the flag says whether it was created now."""
    refused = await get_for_applicant(session, applicant_key=applicant_key, code=code, for_update=True)
    if refused.status != "rejected":
        raise InvalidState(f"申请当前为“{STATUS_LABELS[refused.status]}”，只有不予许可的申请可以重新申请")
    existing = await _reapplication_of(session, refused)
    if existing is not None:
        return existing, False
    licence = await licence_of(session, refused) if refused.operation != "open" else None
    if licence is not None and licence.status != "valid":
        raise InvalidState("该许可证已注销或吊销，不能再办理变更或注销")
    needed = {r.material_id for r in requirements(domain, refused)}
    application = Application(
        code=new_application_code(domain.today()),
        applicant_id=refused.applicant_id,
        package_id=refused.package_id,
        operation=refused.operation,
        status="draft",
        answers=dict(refused.answers),
        applicant_info=dict(refused.applicant_info),
        changes=dict(refused.changes),
        licence_id=refused.licence_id,
        previous_code=refused.code,
        materials=[
            ApplicationMaterial(
                material_id=item.material_id,
                status="provided",
                file_ids=list(item.file_ids),
                note=item.note,
            )
            for item in refused.materials
            if item.status in CARRIED and item.material_id in needed
        ],
        tasks=[],
    )
    try:
        # begin_nested() flushes what is pending first, so the new row must be added inside it.
        async with session.begin_nested():
            session.add(application)
            await session.flush()
    except IntegrityError:  # the same reapplication made a moment ago by another request
        existing = await _reapplication_of(session, refused)
        if existing is None:
            raise
        return existing, False
    events.record(
        session,
        "application.reapplied",
        applicant=applicant_key,
        application_code=application.code,
        previous_code=refused.code,
        operation=application.operation,
        package_id=application.package_id,
        materials=[m.material_id for m in application.materials],
    )
    await session.commit()
    return application, True


async def _reapplication_of(session: AsyncSession, refused: Application) -> Application | None:
    """The draft made from a refused application; one already submitted cannot be made again."""
    existing = await session.scalar(select(Application).where(Application.previous_code == refused.code))
    if existing is not None and existing.status != "draft":
        raise InvalidState(
            f"申请 {refused.code} 已经重新申请过，新申请 {existing.code} 当前为"
            f"“{STATUS_LABELS[existing.status]}”，请查看新申请的办理进度",
            code="already_reapplied",
        )
    return existing


# --- status -----------------------------------------------------------------------------------------------


def derive_status(application: Application) -> str:
    tasks = application.tasks
    if not tasks:
        return application.status if application.status in EDITABLE else "draft"
    statuses = {t.status for t in tasks}
    if "rejected" in statuses:
        return "rejected"
    if "correction_requested" in statuses:
        return "needs_correction"
    if statuses == {"approved"}:
        return "completed"
    if statuses & {"approved", "inspection_scheduled"} or any(t.round > 1 for t in tasks):
        return "in_review"
    return "accepted"


def package_name(domain: Domain, package_id: str) -> str:
    package = domain.catalog.packages.get(package_id)
    return package.name if package else package_id


# A task whose matter was since removed from the catalog keeps a due date: five working days.
REMOVED_MATTER_DAYS = 5


def promised_days(domain: Domain, matter_id: str) -> int:
    matter = domain.catalog.matters.get(matter_id)
    return matter.promised_days if matter else REMOVED_MATTER_DAYS


def application_promised_days(domain: Domain, application: Application) -> int:
    """Registration's promise and then the longest of the departments that wait for it (`overall_days`)."""
    if not application.tasks and application.operation == "open":
        return domain.catalog.checklist(application.package_id, application.answers).promised_days
    return overall_days(
        (_registration_first(domain, t.matter_id), promised_days(domain, t.matter_id))
        for t in application.tasks
    )


def _registration_first(domain: Domain, matter_id: str) -> bool:
    matter = domain.catalog.matters.get(matter_id)
    return bool(matter and matter.registration_first)


def licence_name(domain: Domain, matter_id: str) -> str:
    matter = domain.catalog.matters.get(matter_id)
    return matter.licence_name if matter else matter_id


def department_name(domain: Domain, department_id: str) -> str:
    department = domain.catalog.departments.get(department_id)
    return department.name if department else department_id


def task_summary(domain: Domain, task: DepartmentTask) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "licence_name": licence_name(domain, task.matter_id),
        "department_name": department_name(domain, task.department_id),
        "status": task.status,
        "due_date": task.due_date.isoformat() if task.due_date else None,
    }


def is_overdue(task: DepartmentTask, today: date) -> bool:
    return (
        task.due_date is not None
        and task.due_date < today
        and task.status in ("pending", "inspection_scheduled")
    )
