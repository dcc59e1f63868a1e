"""Window agents (帮办代办): the live queue of people waiting for a person, one conversation with the
applicant's applications beside it, claim / reply / hand back. The pages poll two small JSON endpoints."""

from typing import Any

from aiohttp import web

from backend import handoffs
from backend.console.pages import PREFIX, Page, applicant_label, console_view, see_other
from backend.errors import Conflict, InvalidInput
from backend.models import utcnow
from backend.schemas import ApplicationOut, HandoffQuery, HandoffSummary
from backend.views.handoffs import detail_out, message_out, staff_for, summary_out

routes = web.RouteTableDef()
AGENTS = ("agent", "admin")
ID = r"{handoff_id:\d{1,9}}"
TABS = {"open": "进行中", "waiting": "等待接入", "claimed": "服务中", "closed": "已结束"}


def _id(page: Page) -> int:
    return int(page.request.match_info["handoff_id"])


def _conversation(handoff_id: int) -> str:
    return f"{PREFIX}/handoffs/{handoff_id}"


async def _queue(page: Page, tab: str) -> list[HandoffSummary]:
    status = None if tab == "open" else tab
    query = HandoffQuery(status=status, limit=50 if tab == "closed" else 200)
    rows = await handoffs.queue(page.session, query)
    staff = await staff_for(page.session, rows)
    now = utcnow()
    return [summary_out(h, staff, now) for h in rows]


def _tab(page: Page) -> str:
    tab = page.request.query.get("status", "open")
    return tab if tab in TABS else "open"


def _row(summary: HandoffSummary) -> dict[str, Any]:
    return {
        **summary.model_dump(mode="json"),
        "applicant_label": applicant_label(summary.applicant),
        "url": _conversation(summary.id),
    }


@routes.get(PREFIX + "/handoffs")
@console_view(*AGENTS)
async def queue_page(page: Page) -> web.StreamResponse:
    tab = _tab(page)
    rows = await _queue(page, tab)
    if page.request.query.get("fragment") == "rows":  # the page's own refresh, every few seconds
        return page.render("handoffs_rows.html", tab=tab, handoffs=rows)
    availability = handoffs.availability(page.domain)
    return page.render(
        "handoffs.html",
        tab=tab,
        tabs=TABS,
        handoffs=rows,
        in_office_hours=availability.in_office_hours,
        office_message=availability.message,
        office_hours=handoffs.office_hours(page.settings.office_hours).describe(),
        hotline=page.settings.service_hotline,
    )


@routes.get(PREFIX + "/api/handoffs")
@console_view(*AGENTS, api=True)
async def queue_json(page: Page) -> web.StreamResponse:
    tab = _tab(page)
    rows = await _queue(page, tab)
    waiting = rows if tab == "waiting" else await _queue(page, "waiting")
    return web.json_response(
        {
            "handoffs": [_row(r) for r in rows],
            "waiting": len(waiting),
            "in_office_hours": handoffs.availability(page.domain).in_office_hours,
        }
    )


@routes.get(PREFIX + f"/handoffs/{ID}")
@console_view(*AGENTS)
async def conversation_page(page: Page) -> web.StreamResponse:
    handoff = await handoffs.get(page.session, _id(page))
    detail = await detail_out(page.session, page.domain, handoff, viewer=page.staff)
    mine = detail.claimed_by == page.staff.username
    return page.render(
        "handoff.html",
        h=detail,
        mine=mine,
        can_reply=detail.status == "claimed" and (mine or page.staff.role == "admin"),
        can_close=detail.status == "waiting"
        or (detail.status == "claimed" and (mine or page.staff.role == "admin")),
        snippets=[_snippets(a) for a in detail.applications],
        hotline=page.settings.service_hotline,
    )


@routes.get(PREFIX + f"/api/handoffs/{ID}")
@console_view(*AGENTS, api=True)
async def conversation_json(page: Page) -> web.StreamResponse:
    handoff = await handoffs.get(page.session, _id(page))
    staff = await staff_for(page.session, [handoff])
    summary = summary_out(handoff, staff)
    return web.json_response(
        {
            "id": summary.id,
            "status": summary.status,
            "status_label": summary.status_label,
            "claimed_by_name": summary.claimed_by_name,
            "messages": [message_out(m, staff).model_dump(mode="json") for m in handoff.messages],
        }
    )


@routes.post(PREFIX + f"/handoffs/{ID}/claim")
@console_view(*AGENTS)
async def claim(page: Page) -> web.StreamResponse:
    handoff_id = _id(page)
    try:
        await handoffs.claim(page.session, staff=page.staff, handoff_id=handoff_id)
    except Conflict as exc:
        return page.redirect(f"{PREFIX}/handoffs", error=exc.message)
    return page.redirect(_conversation(handoff_id), ok="已接入。申请人的新消息会自动显示在这里。")


@routes.post(PREFIX + f"/handoffs/{ID}/reply")
@console_view(*AGENTS)
async def reply(page: Page) -> web.StreamResponse:
    handoff_id = _id(page)
    text = page.field("text")
    if len(text) > 2000:
        return page.redirect(_conversation(handoff_id), error="回复太长了，请控制在 2000 字以内")
    try:
        await handoffs.post_staff_message(page.session, staff=page.staff, handoff_id=handoff_id, text=text)
    except (Conflict, InvalidInput) as exc:
        return page.redirect(_conversation(handoff_id), error=exc.message)
    return see_other(_conversation(handoff_id) + "#reply")


@routes.post(PREFIX + f"/handoffs/{ID}/close")
@console_view(*AGENTS)
async def close(page: Page) -> web.StreamResponse:
    handoff_id = _id(page)
    try:
        await handoffs.close(page.session, staff=page.staff, handoff_id=handoff_id)
    except Conflict as exc:
        return page.redirect(_conversation(handoff_id), error=exc.message)
    return page.redirect(f"{PREFIX}/handoffs", ok="已结束人工服务，申请人已交还智能助手。")


# --- ready-made replies -------------------------------------------------------------------------------------


def _snippets(application: ApplicationOut) -> dict[str, str]:
    """Texts an agent can drop into the reply box for one application: its checklist, and the one-time
    notice when one is out."""
    lines = [
        f"【{application.package_name}·{application.operation_label}】统一编码 {application.code}",
        f"当前状态：{application.status_label}",
        "材料清单：",
    ]
    for number, material in enumerate(application.materials, start=1):
        key = "（关键材料）" if material.key else ""
        problem = f"：{material.problem}" if material.problem else ""
        lines.append(f"{number}. {material.name}{key} — {material.status_label}{problem}")
    missing = [m.name for m in application.materials if m.status in ("missing", "needs_reupload")]
    if missing:
        lines.append("还需提交：" + "、".join(missing) + "。直接在对话里发送照片即可。")
    snippets = {"code": application.code, "checklist": "\n".join(lines)}
    notice = application.correction_notice
    if notice is not None:
        snippets["notice"] = notice.notice_text or notice.message
    return snippets
