"""Department tasks: reviewers' decisions, made in parallel, each reaching the applicant as an event."""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, events, licences
from backend.applications import (
    STATUS_LABELS,
    department_name,
    derive_status,
    licence_name,
    package_name,
    promised_days,
    requirements,
    task_summary,
)
from backend.domain import Domain
from backend.errors import Forbidden, InvalidInput, InvalidState, NotFound
from backend.models import Application, DepartmentTask, StaffUser, utcnow
from backend.notice import notice_path
from backend.schemas import DecisionCreate, TaskQuery

TASK_STATUS_LABELS = {
    "waiting": "等待前置登记",
    "pending": "待审批",
    "correction_requested": "需补正",
    "inspection_scheduled": "待现场核查",
    "approved": "已批准",
    "rejected": "不予许可",
    "closed": "终止办理",
}
DECISION_LABELS = {
    "approve": "准予许可",
    "request_correction": "需要补正材料",
    "reject": "不予许可",
    "schedule_inspection": "安排现场核查",
}
OPEN_FOR_DECISION = ("pending", "inspection_scheduled")
# Not decided yet: what a refusal of another matter of the same application closes (不予许可 ends them all).
UNDECIDED = ("waiting", "pending", "correction_requested", "inspection_scheduled")
CLOSED_REASON = "因其他事项不予许可，本事项终止办理"


def _check_department(staff: StaffUser, department_id: str) -> None:
    if staff.role == "reviewer" and staff.department_id != department_id:
        raise Forbidden("您只能处理本部门的审批任务")
    if staff.role == "agent":
        raise Forbidden("窗口工作人员不能作出审批决定")


async def list_tasks(
    session: AsyncSession, *, domain: Domain, staff: StaffUser, query: TaskQuery
) -> list[tuple[DepartmentTask, Application]]:
    stmt = select(DepartmentTask, Application).join(
        Application, DepartmentTask.application_id == Application.id
    )
    if staff.role == "reviewer":
        if query.department_id is not None and query.department_id != staff.department_id:
            raise Forbidden("您只能查看本部门的审批任务")
        stmt = stmt.where(DepartmentTask.department_id == staff.department_id)
    elif query.department_id is not None:
        stmt = stmt.where(DepartmentTask.department_id == query.department_id)
    if query.status is not None:
        if query.status not in TASK_STATUS_LABELS:
            raise InvalidInput(f"未知的任务状态：{query.status}", field="query.status")
        stmt = stmt.where(DepartmentTask.status == query.status)
    else:
        # Closed by another department's refusal: nothing left to do, so out of the queue unless asked for.
        stmt = stmt.where(DepartmentTask.status != "closed")
    today = domain.today()
    if query.overdue:
        stmt = stmt.where(DepartmentTask.due_date < today, DepartmentTask.status.in_(OPEN_FOR_DECISION))
    # Due and overdue first: the oldest due date is the most urgent; finished tasks last.
    stmt = stmt.order_by(
        DepartmentTask.status.in_(("approved", "rejected")),
        DepartmentTask.due_date.is_(None),
        DepartmentTask.due_date,
        DepartmentTask.id,
    ).limit(query.limit)
    return [(task, application) for task, application in (await session.execute(stmt)).all()]


async def application_for_review(session: AsyncSession, *, staff: StaffUser, task_id: int) -> Application:
    """The application behind a task, for its department's reviewers (and admins) only: a reviewer sees
    the materials of the tasks they handle, and nobody else's."""
    task = await session.get(DepartmentTask, task_id)
    if task is None:
        raise NotFound("未找到该审批任务")
    if staff.role == "reviewer" and staff.department_id != task.department_id:
        raise Forbidden("您只能查看本部门审批任务的申请材料")
    if staff.role not in ("reviewer", "admin"):
        raise Forbidden("您的账号没有查看申请材料的权限")
    application = await session.get(Application, task.application_id)
    assert application is not None
    return application


async def _locked_application(session: AsyncSession, task_id: int) -> tuple[Application, DepartmentTask]:
    application_id = await session.scalar(
        select(DepartmentTask.application_id).where(DepartmentTask.id == task_id)
    )
    if application_id is None:
        raise NotFound("未找到该审批任务")
    # Lock the application: decisions on its tasks are serialised, so exactly one of two concurrent
    # last approvals sees every task approved and issues the licence.
    application = await session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    )
    assert application is not None
    task = next(t for t in application.tasks if t.id == task_id)
    return application, task


async def decide(
    session: AsyncSession, *, domain: Domain, staff: StaffUser, task_id: int, data: DecisionCreate
) -> tuple[DepartmentTask, Application]:
    application, task = await _locked_application(session, task_id)
    _check_department(staff, task.department_id)
    if task.status == "waiting":
        raise InvalidState("该事项须在营业执照登记完成后办理")
    if task.status == "closed":
        raise InvalidState("该申请的其他事项已不予许可，本事项已终止办理，不能再作出决定")
    if task.status not in OPEN_FOR_DECISION and not (
        data.decision == "reject" and task.status == "correction_requested"
    ):
        raise InvalidState(f"该任务当前为“{TASK_STATUS_LABELS[task.status]}”，不能作出此决定")
    today = domain.today()
    before = application.status
    problems = _apply(domain, application, task, data, today)
    task.decided_by = staff.username
    task.decided_at = utcnow()
    if task.status == "rejected":
        _close_undecided(application, task)
    started = _start_waiting(domain, application, task, today)
    application.status = derive_status(application)
    applicant = application.applicant.key
    events.record(
        session,
        "task.decided",
        applicant=applicant,
        application_code=application.code,
        task_id=task.id,
        decision=data.decision,
        decision_label=DECISION_LABELS[data.decision],
        licence_name=licence_name(domain, task.matter_id),
        department_name=department_name(domain, task.department_id),
        status=task.status,
        status_label=TASK_STATUS_LABELS[task.status],
        reason=task.reason,
        problems=problems,
        inspection_date=task.inspection_date.isoformat() if task.inspection_date else None,
        application_status=application.status,
        application_status_label=STATUS_LABELS[application.status],
    )
    for waiting in started:
        events.record(
            session,
            "task.started",
            applicant=applicant,
            application_code=application.code,
            task_id=waiting.id,
            licence_name=licence_name(domain, waiting.matter_id),
            department_name=department_name(domain, waiting.department_id),
            due_date=waiting.due_date.isoformat() if waiting.due_date else None,
        )
    audit.record(
        session,
        actor=f"staff:{staff.username}",
        action=f"task.{data.decision}",
        target=f"task:{task.id}",
        application_code=application.code,
        reason=data.reason,
        problems=problems,
        inspection_date=str(data.inspection_date) if data.inspection_date else None,
    )
    if application.status != before:
        await _on_status_change(session, domain, application, before)
    await session.commit()
    return task, application


def _apply(
    domain: Domain, application: Application, task: DepartmentTask, data: DecisionCreate, today: date
) -> list[dict[str, Any]]:
    if data.decision == "approve":
        task.status = "approved"
        task.reason = data.reason
        return []
    if data.decision == "reject":
        if not data.reason:
            raise InvalidInput("不予许可必须说明理由", field="body.reason")
        task.status = "rejected"
        task.reason = data.reason
        return []
    if data.decision == "schedule_inspection":
        if data.inspection_date is None or data.inspection_date < today:
            raise InvalidInput("请选择今天或以后的现场核查日期", field="body.inspection_date")
        task.status = "inspection_scheduled"
        task.inspection_date = data.inspection_date
        task.reason = data.reason
        return []
    if not data.problems and not data.reason:
        raise InvalidInput("请指出需要补正的材料或说明原因", field="body.problems")
    names = {r.material_id: r.name for r in requirements(domain, application)}
    problems: list[dict[str, Any]] = []
    items = {m.material_id: m for m in application.materials}
    for problem in data.problems:
        if problem.material_id not in names:
            raise InvalidInput(f"本申请没有材料“{problem.material_id}”", field="body.problems")
        item = items.get(problem.material_id)
        problems.append(
            {
                "material_id": problem.material_id,
                "name": names[problem.material_id],
                "problem": problem.problem,
                # The files found wanting: the first file handed in again takes their place
                # (`applications.attach_material`).
                "file_ids": list(item.file_ids) if item is not None else [],
            }
        )
        if item is not None:
            item.status = "needs_reupload"
            item.problem = problem.problem
    task.status = "correction_requested"
    task.reason = data.reason
    task.problems = problems
    return problems


def _close_undecided(application: Application, refused: DepartmentTask) -> None:
    """One refusal decides the application (不予许可): the matters not decided yet end with it, so no
    reviewer works on them and no approval follows the refusal. Approved ones stay approved."""
    now = utcnow()
    for other in application.tasks:
        if other is not refused and other.status in UNDECIDED:
            other.status = "closed"
            other.reason = CLOSED_REASON
            other.decided_at = now


def _start_waiting(
    domain: Domain, application: Application, task: DepartmentTask, today: date
) -> list[DepartmentTask]:
    """When registration is approved, the departments that waited for it start their clocks."""
    matter = domain.catalog.matters.get(task.matter_id)
    if task.status != "approved" or not (matter and matter.registration_first):
        return []
    started = []
    for other in application.tasks:
        if other.status == "waiting":
            other.status = "pending"
            other.started_on = today
            other.due_date = domain.calendar.add_working_days(today, promised_days(domain, other.matter_id))
            started.append(other)
    return started


async def _on_status_change(
    session: AsyncSession, domain: Domain, application: Application, before: str
) -> None:
    applicant = application.applicant.key
    if application.status == "completed":
        application.completed_at = utcnow()
        events.record(
            session,
            "application.completed",
            applicant=applicant,
            application_code=application.code,
            operation=application.operation,
            package_name=package_name(domain, application.package_id),
        )
        await licences.finalise(session, domain=domain, application=application)
    elif application.status == "rejected" and before != "rejected":
        # The one notice the applicant gets about the refusal: what was refused, why, and what ended with it.
        refused = next(t for t in application.tasks if t.status == "rejected")
        events.record(
            session,
            "application.rejected",
            applicant=applicant,
            application_code=application.code,
            operation=application.operation,
            package_name=package_name(domain, application.package_id),
            task_id=refused.id,
            licence_name=licence_name(domain, refused.matter_id),
            department_name=department_name(domain, refused.department_id),
            reason=refused.reason,
            closed=[task_summary(domain, t) for t in application.tasks if t.status == "closed"],
            approved=[task_summary(domain, t) for t in application.tasks if t.status == "approved"],
        )
    elif application.status == "needs_correction":
        events.record(
            session,
            "application.correction_required",
            applicant=applicant,
            application_code=application.code,
            problems=[p for t in application.tasks for p in t.problems],
            notice_url=notice_path(domain.settings, application.code),
        )
