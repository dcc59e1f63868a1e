"""Department reviewers: their department's tasks (due and overdue first), one application with its
materials, and the decision — approve, request correction per material, reject, schedule an inspection.
Each decision reaches the applicant through the events `tasks.decide` records."""

from datetime import date

from aiohttp import web
from pydantic import ValidationError

from backend import commitments, files, tasks
from backend.applications import STATUS_LABELS
from backend.console.pages import PREFIX, Page, console_view
from backend.domain import Domain
from backend.errors import InvalidInput, InvalidState
from backend.representations import review_task_out
from backend.schemas import ApplicationOut, DecisionCreate, MaterialProblem, TaskQuery
from backend.views.applications import application_view

routes = web.RouteTableDef()
REVIEWERS = ("reviewer", "admin")
ID = r"{task_id:\d{1,9}}"
VIEWS = {"open": "待处理", "overdue": "已超期", "all": "全部"}
DUE_SOON_WORKING_DAYS = 2


def _id(page: Page) -> int:
    return int(page.request.match_info["task_id"])


def _task_url(task_id: int) -> str:
    return f"{PREFIX}/tasks/{task_id}"


def working_days_left(domain: Domain, due: date | None, today: date) -> int | None:
    """Working days from today to the due date (negative once overdue)."""
    if due is None:
        return None
    step = 1 if due >= today else -1
    count, day = 0, today
    while day != due:
        day = date.fromordinal(day.toordinal() + step)
        if domain.calendar.is_working_day(day):
            count += step
    return count


@routes.get(PREFIX + "/tasks")
@console_view(*REVIEWERS)
async def tasks_page(page: Page) -> web.StreamResponse:
    view = page.request.query.get("view", "open")
    view = view if view in VIEWS else "open"
    department = page.request.query.get("department") or None
    if page.staff.role == "reviewer" or department not in page.domain.catalog.departments:
        department = None
    query = TaskQuery(overdue=view == "overdue", department_id=department, limit=500)
    rows = await tasks.list_tasks(page.session, domain=page.domain, staff=page.staff, query=query)
    today = page.domain.today()
    items = [review_task_out(page.domain, task, application, today) for task, application in rows]
    if view == "open":
        # Also a decided task whose 容缺 material arrived since: its reviewers should look at it.
        items = [t for t in items if t.status in tasks.OPEN_FOR_DECISION or t.new_materials]
    left = {t.id: working_days_left(page.domain, t.due_date, today) for t in items}
    own = page.staff.department_id
    return page.render(
        "tasks.html",
        view=view,
        views=VIEWS,
        tasks=items,
        left=left,
        due_soon=DUE_SOON_WORKING_DAYS,
        department=department,
        departments=page.domain.catalog.departments,
        department_name=page.domain.catalog.departments[own].name
        if own in page.domain.catalog.departments
        else None,
    )


@routes.get(PREFIX + f"/tasks/{ID}")
@console_view(*REVIEWERS)
async def task_page(page: Page) -> web.StreamResponse:
    task_id = _id(page)
    application = await tasks.application_for_review(page.session, staff=page.staff, task_id=task_id)
    view = await application_view(
        page.session, page.domain, application, subject=files.staff_subject(page.staff.username)
    )
    today = page.domain.today()
    record = next(t for t in application.tasks if t.id == task_id)
    task = review_task_out(page.domain, record, application, today)
    return page.render(
        "task.html",
        task=task,
        app=view,
        answers=_answers(page.domain, view),
        left=working_days_left(page.domain, task.due_date, today),
        can_decide=task.status in tasks.OPEN_FOR_DECISION,
        can_reject=task.status in (*tasks.OPEN_FOR_DECISION, "correction_requested"),
        decision_labels=tasks.DECISION_LABELS,
        today=today.isoformat(),
        application_status_label=STATUS_LABELS.get(application.status, application.status),
    )


@routes.post(PREFIX + f"/tasks/{ID}/seen")
@console_view(*REVIEWERS)
async def materials_seen(page: Page) -> web.StreamResponse:
    """The reviewer has looked at the materials delivered later (容缺后补): no longer news for this task."""
    task_id = _id(page)
    application = await tasks.application_for_review(page.session, staff=page.staff, task_id=task_id)
    task = next(t for t in application.tasks if t.id == task_id)
    await commitments.mark_seen(page.session, staff=page.staff, task=task, application_code=application.code)
    return page.redirect(_task_url(task_id), ok="已标记为已查看补交的材料。")


@routes.post(PREFIX + f"/tasks/{ID}/decide")
@console_view(*REVIEWERS)
async def decide(page: Page) -> web.StreamResponse:
    task_id = _id(page)
    try:
        data = _decision(page)
        task, application = await tasks.decide(
            page.session, domain=page.domain, staff=page.staff, task_id=task_id, data=data
        )
    except (InvalidInput, InvalidState) as exc:
        return page.redirect(_task_url(task_id), error=exc.message)
    label = tasks.DECISION_LABELS[data.decision]
    message = f"已作出决定：{label}。申请人会收到通知。"
    if application.status == "completed":
        message = f"已作出决定：{label}。全部事项审批完成，申请已办结，行业综合许可证已签发。"
    return page.redirect(_task_url(task.id), ok=message)


def _decision(page: Page) -> DecisionCreate:
    """The decision form → the API's decision model (the same validation as `POST /tasks/{id}/decisions`)."""
    decision = page.field("decision")
    problems = []
    if decision == "request_correction" and page.form is not None:
        for material_id in page.form.getall("problem_material", []):
            text = page.field(f"problem_{material_id}") or "请重新提交"
            problems.append({"material_id": str(material_id), "problem": text})
    try:
        return DecisionCreate(
            decision=decision,
            reason=page.field("reason") or None,
            problems=[MaterialProblem.model_validate(p) for p in problems],
            inspection_date=page.field("inspection_date") or None,
        )
    except ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0]) if exc.errors() and exc.errors()[0]["loc"] else ""
        messages = {
            "decision": "请选择审批决定",
            "inspection_date": "请选择有效的现场核查日期",
            "reason": "说明太长了（最多 1000 字）",
        }
        raise InvalidInput(messages.get(where, "提交的内容不正确，请检查后重试")) from exc


def _answers(domain: Domain, application: ApplicationOut) -> list[tuple[str, str]]:
    """The questionnaire as a reviewer reads it: question text and the answer's wording."""
    rows = []
    for question_id, value in application.answers.items():
        question = domain.catalog.questions.get(question_id)
        if question is None:
            rows.append((question_id, str(value)))
            continue
        if question.type == "bool":
            shown = "是" if value else "否"
        elif question.type == "choice":
            shown = next((o.label for o in question.options if o.id == value), str(value))
        else:
            shown = f"{value}{question.unit or ''}"
        rows.append((question.text, shown))
    return rows
