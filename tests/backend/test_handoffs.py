"""Human service through the HTTP API: an applicant asks for a person, an agent claims, replies and hands
back; the events the gateway acts on, the audit trail, and every way to get it wrong."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backend import handoffs
from backend.db import begin_write
from backend.keys import DOMAIN, SESSIONMAKER, SETTINGS
from backend.models import Handoff, utcnow
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import INFO, restaurant_package

APPLICANT = "wechat:oHandoffApplicant0001"
OTHER = "web:someone-else-42"
ALWAYS_OPEN = "mon-sun 00:00-24:00"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    # Staff always answer and no day is a holiday, whatever day the suite runs on.
    holidays = tmp_path / "no-holidays.yaml"
    holidays.write_text("years: []\n", encoding="utf-8")
    return settings.model_copy(update={"office_hours": ALWAYS_OPEN, "holidays_file": holidays})


async def staff_token(api: Api, username: str, role: str = "agent", name: str | None = None) -> str:
    await api.call(
        "POST",
        "/staff",
        token=await api.admin(),
        expect=201,
        json={
            "username": username,
            "display_name": name or f"帮办员{username[-1]}",
            "password": "agent-password-1",
            "role": role,
            **({"department_id": "market_regulation"} if role == "reviewer" else {}),
        },
    )
    return await api.login(username, "agent-password-1")


async def events_of(api: Api, prefix: str = "handoff.") -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["type"].startswith(prefix)]


async def test_agent_claims_replies_and_hands_back(api: Api) -> None:
    package = await restaurant_package(api)
    application = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": package["id"], "applicant": INFO},
    )

    created = await api.call(
        "POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked", "note": "我要找人工"}
    )
    assert created["status"] == "waiting" and created["in_office_hours"] is True
    assert "人工服务" in created["message"] and created["waiting_before"] == 0
    again = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=200, json={"reason": "fallback"})
    assert again["id"] == created["id"]
    handoff_id = created["id"]
    assert (await api.call("GET", "/handoffs/current", applicant=APPLICANT))["id"] == handoff_id

    sent = await api.call(
        "POST",
        f"/handoffs/{handoff_id}/messages",
        applicant=APPLICANT,
        expect=201,
        json={"text": "  我的申请为什么还没受理？ "},
    )
    assert sent["sender"] == "applicant" and sent["text"] == "我的申请为什么还没受理？"

    agent = await staff_token(api, "agent_li", name="李帮办")
    colleague = await staff_token(api, "agent_wu", name="吴帮办")
    queue = (await api.call("GET", "/handoffs?status=waiting", token=agent))["handoffs"]
    assert [h["id"] for h in queue] == [handoff_id]
    assert queue[0]["reason_label"] == "要求人工服务" and queue[0]["waiting_seconds"] >= 0
    assert queue[0]["last_message"] == "我的申请为什么还没受理？" and queue[0]["applicant"] == APPLICANT

    detail = await api.call("POST", f"/handoffs/{handoff_id}/claim", token=agent)
    assert detail["status"] == "claimed" and detail["claimed_by_name"] == "李帮办"
    assert [m["text"] for m in detail["messages"]] == ["我的申请为什么还没受理？"]
    assert [a["code"] for a in detail["applications"]] == [application["code"]]
    assert detail["applications"][0]["materials"], "the agent sees the materials checklist"
    assert (await api.call("POST", f"/handoffs/{handoff_id}/claim", token=agent))["id"] == handoff_id
    taken = await api.call("POST", f"/handoffs/{handoff_id}/claim", token=colleague, expect=409)
    assert "李帮办" in taken["error"]["message"]
    await api.call(
        "POST", f"/handoffs/{handoff_id}/messages", token=colleague, expect=403, json={"text": "我来回答"}
    )
    await api.call("POST", f"/handoffs/{handoff_id}/close", token=colleague, expect=403)

    reply = await api.call(
        "POST",
        f"/handoffs/{handoff_id}/messages",
        token=agent,
        expect=201,
        json={"text": "您好，还差一份健康证明，补齐即可受理。"},
    )
    assert reply["sender"] == "staff" and reply["staff_name"] == "李帮办"
    admin_reply = await api.call(
        "POST", f"/handoffs/{handoff_id}/messages", token=await api.admin(), expect=201, json={"text": "补充"}
    )
    assert admin_reply["staff_name"] == "管理员"
    full = await api.call("GET", f"/handoffs/{handoff_id}", token=colleague)
    assert [m["sender"] for m in full["messages"]] == ["applicant", "staff", "staff"]

    closed = await api.call("POST", f"/handoffs/{handoff_id}/close", token=agent)
    assert closed["status"] == "closed" and closed["closed_at"]
    await api.call("POST", f"/handoffs/{handoff_id}/close", token=agent, expect=409)
    late = await api.call(
        "POST", f"/handoffs/{handoff_id}/messages", applicant=APPLICANT, expect=409, json={"text": "还在吗"}
    )
    assert late["error"]["code"] == "handoff_closed"
    await api.call(
        "POST", f"/handoffs/{handoff_id}/messages", token=agent, expect=409, json={"text": "再说一句"}
    )
    await api.call("GET", "/handoffs/current", applicant=APPLICANT, expect=404)
    assert [h["id"] for h in (await api.call("GET", "/handoffs?status=closed", token=agent))["handoffs"]] == [
        handoff_id
    ]

    events = await events_of(api)
    assert [e["type"] for e in events] == [
        "handoff.requested",
        "handoff.claimed",
        "handoff.message",
        "handoff.message",
        "handoff.closed",
    ]
    assert all(e["applicant"] == APPLICANT for e in events)
    assert events[2]["payload"] == {
        "handoff_id": handoff_id,
        "text": "您好，还差一份健康证明，补齐即可受理。",
        "staff_name": "李帮办",
    }
    assert events[4]["payload"]["handoff_id"] == handoff_id

    audit = (await api.call("GET", f"/audit?target=handoff:{handoff_id}", token=await api.admin()))["entries"]
    assert [(e["actor"], e["action"]) for e in reversed(audit)] == [
        ("staff:agent_li", "handoff.claim"),
        ("staff:agent_li", "handoff.message"),
        ("staff:admin", "handoff.message"),
        ("staff:agent_li", "handoff.close"),
    ]

    # Asking again after the hand-back opens a new conversation.
    fresh = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "complaint"})
    assert fresh["id"] != handoff_id


async def test_other_applicants_and_bad_input(api: Api) -> None:
    mine = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    path = f"/handoffs/{mine['id']}/messages"
    await api.call("POST", path, applicant=OTHER, expect=404, json={"text": "不是我的"})
    await api.call("GET", "/handoffs/current", applicant=OTHER, expect=404)
    await api.call("POST", "/handoffs/999999/messages", applicant=APPLICANT, expect=404, json={"text": "x"})
    await api.call("POST", "/handoffs/abc/messages", applicant=APPLICANT, expect=404, json={"text": "x"})

    for body in (
        {"reason": "bored"},
        {},
        {"reason": "asked", "note": "长" * 1001},
        {"reason": "asked", "x": 1},
    ):
        await api.call("POST", "/handoffs", applicant=OTHER, expect=422, json=body)
    for body in ({"text": ""}, {"text": "   "}, {"text": "字" * 2001}, {}):
        await api.call("POST", path, applicant=APPLICANT, expect=422, json=body)

    # Callers without the right identity.
    await api.call("POST", "/handoffs", expect=401, json={"reason": "asked"})
    await api.call("POST", path, expect=401, json={"text": "匿名"})
    await api.call("POST", path, headers={"X-Service-Key": SERVICE_KEY}, expect=401, json={"text": "谁"})
    await api.call("GET", "/handoffs", applicant=APPLICANT, expect=401)
    await api.call("GET", "/handoffs", expect=401)
    reviewer = await staff_token(api, "rev_market", role="reviewer")
    await api.call("GET", "/handoffs", token=reviewer, expect=403)
    await api.call("POST", f"/handoffs/{mine['id']}/claim", token=reviewer, expect=403)
    await api.call("POST", path, token=reviewer, expect=403, json={"text": "审批员回复"})
    body = await api.call("GET", "/handoffs?status=lost", token=await api.admin(), expect=422)
    # The choices are listed, in Chinese around them, not pydantic's "Input should be 'a' or 'b'".
    assert body["error"]["message"].startswith("参数 query.status 不正确：应为 ")
    assert "should" not in body["error"]["message"] and " or " not in body["error"]["message"]

    agent = await staff_token(api, "agent_zh")
    body = await api.call("POST", path, token=agent, expect=409, json={"text": "未接入就回复"})
    assert body["error"]["code"] == "not_claimed"
    await api.call("GET", "/handoffs/999999", token=agent, expect=404)
    await api.call("POST", "/handoffs/999999/claim", token=agent, expect=404)
    # A waiting conversation may be closed without claiming it (the person has left).
    assert (await api.call("POST", f"/handoffs/{mine['id']}/close", token=agent))["status"] == "closed"


async def test_two_taps_queue_the_person_once(api: Api) -> None:
    async def ask() -> tuple[int, Any]:
        response = await api.client.post(
            "/api/v1/handoffs", json={"reason": "asked"}, headers=api.applicant_headers(APPLICANT)
        )
        return response.status, (await response.json())["id"]

    results = await asyncio.gather(*(ask() for _ in range(6)))
    assert sorted(status for status, _ in results) == [200] * 5 + [201]
    assert len({handoff_id for _, handoff_id in results}) == 1
    assert [e["type"] for e in await events_of(api)] == ["handoff.requested"]


async def test_queue_order_and_position(api: Api) -> None:
    first = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "fallback"})
    second = await api.call("POST", "/handoffs", applicant=OTHER, expect=201, json={"reason": "complaint"})
    assert second["waiting_before"] == 1 and "前面还有 1 位" in second["message"]
    agent = await staff_token(api, "agent_qi")
    queue = (await api.call("GET", "/handoffs", token=agent))["handoffs"]
    assert [(h["id"], h["reason_label"]) for h in queue] == [
        (first["id"], "助手两次未能理解"),
        (second["id"], "投诉"),
    ]
    await api.call("POST", f"/handoffs/{second['id']}/claim", token=agent)
    mine = await api.call("GET", "/handoffs/current", applicant=APPLICANT)
    assert mine["waiting_before"] == 0
    served = await api.call("GET", "/handoffs/current", applicant=OTHER)
    assert served["status"] == "claimed" and "正在为您服务" in served["message"]
    open_ = (await api.call("GET", "/handoffs", token=agent))["handoffs"]
    assert [h["status"] for h in open_] == ["waiting", "claimed"]


async def test_out_of_office_hours(api: Api, client: Any) -> None:
    # Open only on a weekday that is not today: now is out of hours whatever the clock says.
    settings = client.app[SETTINGS]
    today = client.app[DOMAIN].today().weekday()
    other_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(today + 2) % 7]
    settings.office_hours = f"{other_day} 09:00-12:00"
    body = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    assert body["in_office_hours"] is False
    assert "非工作时间" in body["message"] and "12345" in body["message"]
    assert "09:00" in body["message"] and "（周" in body["message"]  # two days ahead: a dated opening
    requested = (await events_of(api))[0]
    assert requested["payload"]["in_office_hours"] is False


async def test_forgotten_conversations_are_closed(api: Api, client: Any) -> None:
    body = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    waiting = await api.call("POST", "/handoffs", applicant=OTHER, expect=201, json={"reason": "asked"})
    agent = await staff_token(api, "agent_ma")
    await api.call("POST", f"/handoffs/{body['id']}/claim", token=agent)
    sessionmaker = client.app[SESSIONMAKER]
    async with sessionmaker() as session:
        long_ago = utcnow() - timedelta(hours=30)
        await session.execute(
            update(Handoff).values(created_at=long_ago, claimed_at=long_ago).where(Handoff.id == body["id"])
        )
        await session.execute(update(Handoff).values(created_at=long_ago).where(Handoff.id == waiting["id"]))
        await session.commit()
    for _ in range(2):  # a second run finds nothing more to do
        async with sessionmaker() as session:
            await begin_write(session)
            closed = await handoffs.close_idle(session, idle=timedelta(hours=24))
        assert closed == (1 if _ == 0 else 0)
    closed_events = [e for e in await events_of(api) if e["type"] == "handoff.closed"]
    assert [(e["applicant"], e["payload"]["closed_by"]) for e in closed_events] == [(APPLICANT, "idle")]
    # The one still waiting for a person stays in the queue.
    assert (await api.call("GET", "/handoffs/current", applicant=OTHER))["status"] == "waiting"


async def test_the_applicant_leaves_human_service(api: Api) -> None:
    mine = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    path = f"/handoffs/{mine['id']}/close"
    agent = await staff_token(api, "agent_he", name="何帮办")
    await api.call("POST", f"/handoffs/{mine['id']}/claim", token=agent)

    # Someone else's conversation looks like a missing one, and stays open.
    missing = await api.call("POST", path, applicant=OTHER, expect=404)
    assert missing["error"]["message"] == handoffs.NOT_FOUND_MESSAGE
    await api.call("POST", "/handoffs/999999/close", applicant=APPLICANT, expect=404)
    await api.call("POST", path, headers={"X-Service-Key": SERVICE_KEY}, expect=401)
    await api.call("POST", path, expect=401)
    assert (await api.call("GET", "/handoffs/current", applicant=APPLICANT))["status"] == "claimed"

    closed = await api.call("POST", path, applicant=APPLICANT)
    assert closed["status"] == "closed" and closed["closed_at"] and closed["id"] == mine["id"]
    again = await api.call("POST", path, applicant=APPLICANT)
    assert again["status"] == "closed" and again["closed_at"] == closed["closed_at"]
    await api.call("GET", "/handoffs/current", applicant=APPLICANT, expect=404)
    # Staff closing afterwards learn it is over (their console shows it closed).
    await api.call("POST", path, token=agent, expect=409)

    closed_events = [e for e in await events_of(api) if e["type"] == "handoff.closed"]
    assert [(e["applicant"], e["payload"]) for e in closed_events] == [
        (APPLICANT, {"handoff_id": mine["id"], "staff_name": None, "closed_by": "applicant", "served": True})
    ]
    audit = (await api.call("GET", f"/audit?target=handoff:{mine['id']}", token=await api.admin()))["entries"]
    assert [(e["actor"], e["action"]) for e in reversed(audit)] == [
        ("staff:agent_he", "handoff.claim"),
        (f"applicant:{APPLICANT}", "handoff.close"),
    ]


async def test_the_applicant_may_leave_before_anyone_answers(api: Api) -> None:
    mine = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "fallback"})
    await api.call("POST", f"/handoffs/{mine['id']}/close", applicant=APPLICANT)
    # Nobody served it, so the gateway will not ask for a score.
    [closed] = [e for e in await events_of(api) if e["type"] == "handoff.closed"]
    assert closed["payload"]["served"] is False
    agent = await staff_token(api, "agent_lu")
    assert (await api.call("GET", "/handoffs", token=agent))["handoffs"] == []
    # A new request opens a new conversation rather than reviving the closed one.
    fresh = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    assert fresh["id"] != mine["id"]
