"""Staff login and account administration."""

from backend import audit, staff
from backend.api import Access, Ctx, RouteTable
from backend.keys import DOMAIN, SETTINGS
from backend.schemas import (
    AuditList,
    AuditOut,
    AuditQuery,
    LoginRequest,
    LoginResponse,
    StaffCreate,
    StaffList,
    StaffOut,
)

routes = RouteTable(tag="staff")


@routes.route(
    "POST",
    "/staff/login",
    summary="工作人员登录",
    access=Access.PUBLIC,
    body=LoginRequest,
    response=LoginResponse,
)
async def login(ctx: Ctx[LoginRequest, None]) -> LoginResponse:
    hours = ctx.request.app[SETTINGS].staff_token_hours
    token, session = await staff.login(
        ctx.session, username=ctx.body.username, password=ctx.body.password, hours=hours
    )
    return LoginResponse(
        token=token,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
        staff=StaffOut.model_validate(session.staff, from_attributes=True),
    )


@routes.route("POST", "/staff/logout", summary="退出登录", access=Access.STAFF)
async def logout(ctx: Ctx[None, None]) -> None:
    assert ctx.caller.session is not None
    await staff.logout(ctx.session, staff_session=ctx.caller.session)


@routes.route("GET", "/staff/me", summary="当前登录的工作人员", access=Access.STAFF, response=StaffOut)
async def me(ctx: Ctx[None, None]) -> StaffOut:
    return StaffOut.model_validate(ctx.caller.staff, from_attributes=True)


@routes.route(
    "GET", "/staff", summary="工作人员账号", access=Access.STAFF, roles=("admin",), response=StaffList
)
async def list_staff(ctx: Ctx[None, None]) -> StaffList:
    rows = await staff.list_staff(ctx.session)
    return StaffList(staff=[StaffOut.model_validate(u, from_attributes=True) for u in rows])


@routes.route(
    "POST",
    "/staff",
    summary="新建工作人员账号",
    access=Access.STAFF,
    roles=("admin",),
    body=StaffCreate,
    response=StaffOut,
    status=201,
    idempotent=True,
)
async def create_staff(ctx: Ctx[StaffCreate, None]) -> StaffOut:
    user = await staff.create_staff(
        ctx.session, domain=ctx.request.app[DOMAIN], data=ctx.body, actor=ctx.caller.identity
    )
    return StaffOut.model_validate(user, from_attributes=True)


@routes.route(
    "GET",
    "/audit",
    summary="审计日志",
    access=Access.STAFF,
    roles=("admin",),
    query=AuditQuery,
    response=AuditList,
)
async def audit_log(ctx: Ctx[None, AuditQuery]) -> AuditList:
    rows = await audit.entries(ctx.session, target=ctx.query.target, limit=ctx.query.limit)
    return AuditList(entries=[AuditOut.model_validate(e, from_attributes=True) for e in rows])
