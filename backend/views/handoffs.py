"""Human service endpoints: the gateway (for an applicant) asks for a person and forwards messages; window
staff list, claim, reply and hand back."""

import json
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend import applications, files, handoffs
from backend.api import Access, Ctx, RouteTable
from backend.domain import Domain
from backend.keys import DOMAIN
from backend.models import Handoff, HandoffMessage, StaffUser, utcnow
from backend.schemas import (
    HandoffCreate,
    HandoffDetail,
    HandoffList,
    HandoffMessageCreate,
    HandoffMessageOut,
    HandoffOut,
    HandoffQuery,
    HandoffSummary,
)
from backend.views.applications import application_view

routes = RouteTable(tag="handoffs")
ID = r"{handoff_id:\d{1,9}}"
STAFF_ROLES = ("agent", "admin")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _id(ctx: Ctx[Any, Any]) -> int:
    return int(ctx.path("handoff_id"))


# --- representations ----------------------------------------------------------------------------------


async def applicant_out(session: AsyncSession, domain: Domain, handoff: Handoff) -> HandoffOut:
    before = await handoffs.waiting_before(session, handoff)
    availability = handoffs.availability(domain, waiting_before=before)
    message = availability.message
    if handoff.status == "claimed":
        message = "工作人员正在为您服务，请直接发送您的问题。"
    return HandoffOut(
        id=handoff.id,
        status=handoff.status,
        status_label=handoffs.STATUS_LABELS[handoff.status],
        reason=handoff.reason,
        in_office_hours=availability.in_office_hours,
        message=message,
        waiting_before=before,
        created_at=handoff.created_at,
    )


def message_out(message: HandoffMessage, staff: dict[int, StaffUser]) -> HandoffMessageOut:
    author = staff.get(message.staff_id) if message.staff_id is not None else None
    return HandoffMessageOut(
        id=message.id,
        handoff_id=message.handoff_id,
        sender="staff" if message.sender == "staff" else "applicant",
        staff_name=author.display_name if author else None,
        text=message.text,
        created_at=message.created_at,
    )


def summary_out(handoff: Handoff, staff: dict[int, StaffUser], now: datetime | None = None) -> HandoffSummary:
    claimer = staff.get(handoff.claimed_by) if handoff.claimed_by is not None else None
    answered = handoff.claimed_at or handoff.closed_at or now or utcnow()
    last = handoff.messages[-1] if handoff.messages else None
    return HandoffSummary(
        id=handoff.id,
        applicant=handoff.applicant.key,
        reason=handoff.reason,
        reason_label=handoffs.REASON_LABELS.get(handoff.reason, handoff.reason),
        note=handoff.note,
        status=handoff.status,
        status_label=handoffs.STATUS_LABELS[handoff.status],
        claimed_by=claimer.username if claimer else None,
        claimed_by_name=claimer.display_name if claimer else None,
        created_at=handoff.created_at,
        claimed_at=handoff.claimed_at,
        closed_at=handoff.closed_at,
        waiting_seconds=max(0, int((answered - handoff.created_at).total_seconds())),
        message_count=len(handoff.messages),
        last_message=last.text if last else None,
        last_message_at=last.created_at if last else None,
    )


async def staff_for(session: AsyncSession, rows: list[Handoff]) -> dict[int, StaffUser]:
    ids = {h.claimed_by for h in rows if h.claimed_by is not None}
    ids |= {m.staff_id for h in rows for m in h.messages if m.staff_id is not None}
    return await handoffs.staff_names(session, ids)


async def detail_out(
    session: AsyncSession, domain: Domain, handoff: Handoff, *, viewer: StaffUser
) -> HandoffDetail:
    """The conversation and the applicant's applications, their material files signed for `viewer`."""
    # A claim or a reply has just added to the conversation: read it afresh.
    await session.refresh(handoff, ["messages"])
    staff = await staff_for(session, [handoff])
    rows = await applications.list_for_applicant(session, applicant_key=handoff.applicant.key)
    subject = files.staff_subject(viewer.username)
    return HandoffDetail(
        **summary_out(handoff, staff).model_dump(),
        messages=[message_out(m, staff) for m in handoff.messages],
        applications=[await application_view(session, domain, a, subject=subject) for a in rows],
    )


# --- applicant (through the gateway) -------------------------------------------------------------------


@routes.route(
    "POST",
    "/handoffs",
    summary="转人工服务（已有进行中的会话则返回它：201 新建，200 已有）",
    access=Access.APPLICANT,
    body=HandoffCreate,
    response=HandoffOut,
    status=201,
    idempotent=True,
)
async def request_handoff(ctx: Ctx[HandoffCreate, None]) -> web.Response:
    domain = ctx.request.app[DOMAIN]
    handoff, created = await handoffs.request(
        ctx.session, domain=domain, applicant_key=ctx.applicant, data=ctx.body
    )
    out = await applicant_out(ctx.session, domain, handoff)
    return web.json_response(out.model_dump(mode="json"), status=201 if created else 200, dumps=_dumps)


@routes.route(
    "GET",
    "/handoffs/current",
    summary="申请人进行中的人工服务（没有则 404）",
    access=Access.APPLICANT,
    response=HandoffOut,
)
async def current_handoff(ctx: Ctx[None, None]) -> HandoffOut:
    handoff = await handoffs.current(ctx.session, applicant_key=ctx.applicant)
    return await applicant_out(ctx.session, ctx.request.app[DOMAIN], handoff)


@routes.route(
    "POST",
    f"/handoffs/{ID}/messages",
    summary="发送消息：申请人（经网关）留言给工作人员，或接待人员回复申请人（已结束则 409）",
    access=Access.SERVICE_OR_STAFF,
    roles=STAFF_ROLES,
    body=HandoffMessageCreate,
    response=HandoffMessageOut,
    status=201,
    idempotent=True,
)
async def post_message(ctx: Ctx[HandoffMessageCreate, None]) -> HandoffMessageOut:
    staff = ctx.caller.staff
    if staff is not None:
        message = await handoffs.post_staff_message(
            ctx.session, staff=staff, handoff_id=_id(ctx), text=ctx.body.text
        )
        return message_out(message, {staff.id: staff})
    message = await handoffs.post_applicant_message(
        ctx.session, applicant_key=ctx.applicant, handoff_id=_id(ctx), text=ctx.body.text
    )
    return message_out(message, {})


# --- staff (console) -------------------------------------------------------------------------------------


@routes.route(
    "GET",
    "/handoffs",
    summary="人工服务队列（等待最久的在前）",
    access=Access.STAFF,
    roles=STAFF_ROLES,
    query=HandoffQuery,
    response=HandoffList,
)
async def list_handoffs(ctx: Ctx[None, HandoffQuery]) -> HandoffList:
    rows = await handoffs.queue(ctx.session, ctx.query)
    staff = await staff_for(ctx.session, rows)
    now = utcnow()
    return HandoffList(handoffs=[summary_out(h, staff, now) for h in rows])


@routes.route(
    "GET",
    f"/handoffs/{ID}",
    summary="会话详情：对话记录与申请人的申请",
    access=Access.STAFF,
    roles=STAFF_ROLES,
    response=HandoffDetail,
)
async def get_handoff(ctx: Ctx[None, None]) -> HandoffDetail:
    assert ctx.caller.staff is not None
    handoff = await handoffs.get(ctx.session, _id(ctx))
    return await detail_out(ctx.session, ctx.request.app[DOMAIN], handoff, viewer=ctx.caller.staff)


@routes.route(
    "POST",
    f"/handoffs/{ID}/claim",
    summary="接入会话",
    access=Access.STAFF,
    roles=STAFF_ROLES,
    response=HandoffDetail,
)
async def claim_handoff(ctx: Ctx[None, None]) -> HandoffDetail:
    assert ctx.caller.staff is not None
    handoff = await handoffs.claim(ctx.session, staff=ctx.caller.staff, handoff_id=_id(ctx))
    return await detail_out(ctx.session, ctx.request.app[DOMAIN], handoff, viewer=ctx.caller.staff)


@routes.route(
    "POST",
    f"/handoffs/{ID}/close",
    summary="结束人工服务，交还智能助手：接待人员结束（已结束则 409），或申请人经网关退出（已结束也 200）",
    access=Access.SERVICE_OR_STAFF,
    roles=STAFF_ROLES,
    response=HandoffSummary,
)
async def close_handoff(ctx: Ctx[None, None]) -> HandoffSummary:
    staff = ctx.caller.staff
    if staff is not None:
        handoff = await handoffs.close(ctx.session, staff=staff, handoff_id=_id(ctx))
    else:
        handoff = await handoffs.close_by_applicant(
            ctx.session, applicant_key=ctx.applicant, handoff_id=_id(ctx)
        )
    return summary_out(handoff, await staff_for(ctx.session, [handoff]))
