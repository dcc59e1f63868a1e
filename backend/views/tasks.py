"""Department reviewers' endpoints."""

from typing import Any

from backend import files, tasks
from backend.api import Access, Ctx, RouteTable
from backend.errors import InvalidInput
from backend.keys import DOMAIN
from backend.representations import review_task_out
from backend.schemas import ApplicationOut, DecisionCreate, ReviewTaskOut, TaskList, TaskQuery
from backend.views.applications import application_view

routes = RouteTable(tag="tasks")


def _task_id(ctx: Ctx[Any, Any]) -> int:
    raw = ctx.path("task_id")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("任务编号应为数字", field="task_id")
    return int(raw)


@routes.route(
    "GET",
    "/tasks",
    summary="本部门的审批任务（临近和超期的在前）",
    access=Access.STAFF,
    roles=("reviewer", "admin"),
    query=TaskQuery,
    response=TaskList,
)
async def list_tasks(ctx: Ctx[None, TaskQuery]) -> TaskList:
    domain = ctx.request.app[DOMAIN]
    assert ctx.caller.staff is not None
    rows = await tasks.list_tasks(ctx.session, domain=domain, staff=ctx.caller.staff, query=ctx.query)
    today = domain.today()
    return TaskList(tasks=[review_task_out(domain, task, application, today) for task, application in rows])


@routes.route(
    "POST",
    "/tasks/{task_id}/decisions",
    summary="作出审批决定",
    access=Access.STAFF,
    roles=("reviewer", "admin"),
    body=DecisionCreate,
    response=ReviewTaskOut,
    idempotent=True,
)
async def decide(ctx: Ctx[DecisionCreate, None]) -> ReviewTaskOut:
    domain = ctx.request.app[DOMAIN]
    assert ctx.caller.staff is not None
    task, application = await tasks.decide(
        ctx.session, domain=domain, staff=ctx.caller.staff, task_id=_task_id(ctx), data=ctx.body
    )
    return review_task_out(domain, task, application, domain.today())


@routes.route(
    "GET",
    "/tasks/{task_id}/application",
    summary="任务对应的申请及其材料（材料链接短时有效，每次读取材料都记入审计日志）",
    access=Access.STAFF,
    roles=("reviewer", "admin"),
    response=ApplicationOut,
)
async def task_application(ctx: Ctx[None, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    assert ctx.caller.staff is not None
    application = await tasks.application_for_review(
        ctx.session, staff=ctx.caller.staff, task_id=_task_id(ctx)
    )
    subject = files.staff_subject(ctx.caller.staff.username)
    return await application_view(ctx.session, domain, application, subject=subject)
