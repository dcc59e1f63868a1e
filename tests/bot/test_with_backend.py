"""The gateway and notifier against the real backend (not its stand-in): a backend state change travels
through the outbox, the Redis Stream and the notifier to the applicant's channel."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from backend.app import create_app as create_backend
from backend.settings import Settings
from bot.app import create_app as create_gateway
from bot.conversation import HANDOFF_LEFT
from bot.handoff import HandoffModes
from bot.messages import UserRef
from tests.bot.conftest import SERVICE_KEY, StandIns, make_settings, web_auth

WEB_USER = "u-e2e-0001"
APPLICANT = f"web:{WEB_USER}"
AUTH = web_auth(WEB_USER)
ADMIN_PASSWORD = "admin-password-123"


async def eventually(check: Callable[[], Any]) -> Any:
    """Poll until the check returns something truthy (the notifier works in the background)."""
    for _ in range(200):
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in 10 s")


@pytest.fixture
async def backend(aiohttp_server: Any, redis_url: str, tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'backend.db'}",
        redis_url=redis_url,
        service_key=SERVICE_KEY,
        data_dir=tmp_path / "data",
        relay_interval_seconds=0.05,
        events_stream="events",
        admin_password=ADMIN_PASSWORD,
    )
    yield await aiohttp_server(create_backend(settings))


@pytest.fixture
async def real_gateway(
    aiohttp_client: Any, standins: StandIns, redis_url: str, backend: TestServer
) -> TestClient[Any, Any]:
    settings = make_settings(standins, redis_url, backend_url=str(backend.make_url("")).rstrip("/"))
    return await aiohttp_client(create_gateway(settings))


@pytest.fixture
async def real_notifier(standins: StandIns, redis_url: str, backend: TestServer) -> AsyncIterator[Any]:
    from bot.components import open_components
    from bot.notifier import Notifier

    settings = make_settings(standins, redis_url, backend_url=str(backend.make_url("")).rstrip("/"))
    async with open_components(settings) as parts:
        running = Notifier.from_components(parts)
        async with running.running():
            yield running


async def backend_call(backend: TestServer, method: str, path: str, json: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            str(backend.make_url("/api/v1" + path)),
            json=json,
            headers={"X-Service-Key": SERVICE_KEY, "X-Applicant": APPLICANT},
        ) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


async def create_bookstore(backend: TestServer) -> dict[str, Any]:
    """A bookstore draft with its questionnaire answered (no materials yet)."""
    return await backend_call(
        backend,
        "POST",
        "/applications",
        {
            "package_id": "bookstore",
            "answers": {
                "entity_type": "individual",
                "premises": "leased",
                "central_ac": False,
                "via_agent": False,
            },
            "applicant": {
                "operator_name": "书香小屋",
                "legal_representative": "李四",
                "address": "临沂市兰山区 2 号",
            },
        },
    )


async def test_backend_events_reach_the_web_applicant(
    backend: TestServer, real_gateway: TestClient[Any, Any], real_notifier: Any
) -> None:
    created = await create_bookstore(backend)
    code = created["code"]
    first = await backend_call(backend, "POST", f"/applications/{code}/submit")
    assert first["status"] == "needs_correction"
    missing = first["correction_notice"]["items"][0]["name"]

    async def notices() -> list[dict[str, Any]]:
        response = await real_gateway.get("/api/chat/notices", headers=AUTH)
        assert response.status == 200
        return list((await response.json())["messages"])

    correction, picture = await eventually(notices)
    assert code in correction["text"] and missing in correction["text"]
    # the one-time notice picture, at a public URL the phone can load without credentials
    assert picture["type"] == "image" and picture["url"].endswith("/notice.png")
    async with aiohttp.ClientSession() as http, http.get(picture["url"]) as response:
        assert response.status == 200 and (await response.read())[:8] == b"\x89PNG\r\n\x1a\n"

    for material in created["materials"]:
        await backend_call(
            backend, "POST", f"/applications/{code}/materials", {"material_id": material["material_id"]}
        )
    accepted = await backend_call(backend, "POST", f"/applications/{code}/submit")
    assert accepted["status"] == "accepted"
    [notice] = await eventually(notices)
    assert "已受理" in notice["text"] and code in notice["text"]
    assert real_notifier.delivered >= 2


async def staff_call(backend: TestServer, token: str, method: str, path: str, json: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            str(backend.make_url("/api/v1" + path)),
            json=json,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


async def hand_over(backend: TestServer, redis_url: str, request: dict[str, str]) -> dict[str, Any]:
    """What the assistant's handoff action does: ask the backend for a person, then the gateway switches
    the web user to human mode."""
    handoff = await backend_call(backend, "POST", "/handoffs", request)
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await HandoffModes(redis).start(UserRef("web", WEB_USER), str(handoff["id"]))
    finally:
        await redis.aclose()
    return dict(handoff)


async def test_human_mode_through_the_real_backend(
    backend: TestServer,
    real_gateway: TestClient[Any, Any],
    real_notifier: Any,
    redis_url: str,
    standins: StandIns,
) -> None:
    handoff = await hand_over(backend, redis_url, {"reason": "asked", "note": "想问材料"})

    response = await real_gateway.post("/api/chat/messages", json={"text": "我的材料齐了吗？"}, headers=AUTH)
    assert response.status == 200
    assert standins.rasa.messages_from(APPLICANT) == [], "in human mode the assistant is not asked"

    token = await staff_call_login(backend, "admin", ADMIN_PASSWORD)
    await staff_call(backend, token, "POST", f"/handoffs/{handoff['id']}/claim")
    detail = await staff_call(backend, token, "GET", f"/handoffs/{handoff['id']}")
    assert "我的材料齐了吗？" in str(detail)
    await staff_call(
        backend, token, "POST", f"/handoffs/{handoff['id']}/messages", {"text": "已齐全，请放心。"}
    )

    async def notices() -> list[dict[str, Any]]:
        response = await real_gateway.get("/api/chat/notices", headers=AUTH)
        return list((await response.json())["messages"])

    [reply] = await eventually(notices)
    assert "已齐全，请放心。" in reply["text"]

    await staff_call(backend, token, "POST", f"/handoffs/{handoff['id']}/close")
    closed, prompt = await eventually(notices)
    assert "人工服务已结束" in closed["text"]
    assert prompt["buttons"][0]["payload"] == f'/rate{{"score": "1", "handoff_id": "{handoff["id"]}"}}'

    async def back_with_the_assistant() -> bool:
        await real_gateway.post("/api/chat/messages", json={"text": "你好"}, headers=AUTH)
        return bool(standins.rasa.messages_from(APPLICANT))

    assert await eventually(back_with_the_assistant)


async def test_an_exit_word_closes_the_handoff_in_the_backend(
    backend: TestServer,
    real_gateway: TestClient[Any, Any],
    real_notifier: Any,
    redis_url: str,
    standins: StandIns,
) -> None:
    handoff = await hand_over(backend, redis_url, {"reason": "asked"})
    token = await staff_call_login(backend, "admin", ADMIN_PASSWORD)
    await staff_call(backend, token, "POST", f"/handoffs/{handoff['id']}/claim")

    response = await real_gateway.post("/api/chat/messages", json={"text": "结束人工"}, headers=AUTH)
    assert await response.json() == {
        "messages": [{"type": "text", "text": HANDOFF_LEFT}],
        "mode": "assistant",
    }

    # The staff console no longer shows the conversation as open.
    detail = await staff_call(backend, token, "GET", f"/handoffs/{handoff['id']}")
    assert detail["status"] == "closed" and detail["closed_at"]
    assert (await staff_call(backend, token, "GET", "/handoffs"))["handoffs"] == []

    async def notices() -> list[dict[str, Any]]:
        response = await real_gateway.get("/api/chat/notices", headers=AUTH)
        return list((await response.json())["messages"])

    # The backend's handoff.closed brings the score buttons only: the goodbye was the gateway's reply.
    [prompt] = await eventually(notices)
    assert prompt["type"] == "buttons"
    five = prompt["buttons"][4]
    assert five == {
        "title": "5分 非常满意",
        "payload": f'/rate{{"score": "5", "handoff_id": "{handoff["id"]}"}}',
    }
    await real_gateway.post("/api/chat/messages", json={"text": five["payload"]}, headers=AUTH)
    assert standins.rasa.messages_from(APPLICANT) == [five["payload"]]


async def staff_call_login(backend: TestServer, username: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            str(backend.make_url("/api/v1/staff/login")), json={"username": username, "password": password}
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return str((await response.json())["token"])


async def test_each_decision_notice_names_its_permit_and_an_inspection_its_day(
    backend: TestServer, real_gateway: TestClient[Any, Any], real_notifier: Any
) -> None:
    created = await create_bookstore(backend)
    code = created["code"]
    for material in created["materials"]:
        await backend_call(
            backend, "POST", f"/applications/{code}/materials", {"material_id": material["material_id"]}
        )
    accepted = await backend_call(backend, "POST", f"/applications/{code}/submit")
    assert accepted["status"] == "accepted"

    async def notices() -> list[dict[str, Any]]:
        response = await real_gateway.get("/api/chat/notices", headers=AUTH)
        return list((await response.json())["messages"])

    await eventually(notices)  # 已受理
    token = await staff_call_login(backend, "admin", ADMIN_PASSWORD)
    saturday = date.today() + timedelta(days=7 + (5 - date.today().weekday()) % 7)
    first, *others = sorted(accepted["tasks"], key=lambda t: t["status"] != "pending")
    await staff_call(
        backend,
        token,
        "POST",
        f"/tasks/{first['id']}/decisions",
        {
            "decision": "schedule_inspection",
            "inspection_date": saturday.isoformat(),
            "reason": "周六上午到店核查",
        },
    )
    [inspection] = await eventually(notices)
    lines = inspection["text"].splitlines()
    assert lines[0] == f"【{first['department_name']}】{first['licence_name']}：待现场核查"
    assert f"{saturday.month}月{saturday.day}日（周六）" in lines[1]

    decided = []
    for task in [first, *others]:
        await staff_call(backend, token, "POST", f"/tasks/{task['id']}/decisions", {"decision": "approve"})
        # the last approval also brings 已办结 and the licence
        decided += [m["text"].splitlines()[0] for m in await eventually(notices) if "【" in m.get("text", "")]
    assert decided == [f"【{t['department_name']}】{t['licence_name']}：已批准" for t in [first, *others]]
    assert len(set(decided)) == len(decided) > 1


async def test_web_chat_takes_what_the_backend_takes_and_relays_its_refusal(
    backend: TestServer, real_gateway: TestClient[Any, Any], standins: StandIns
) -> None:
    from tests.backend.materials.corpus import text_pdf

    async def upload(data: bytes, filename: str, content_type: str) -> tuple[int, list[dict[str, Any]]]:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=filename, content_type=content_type)
        response = await real_gateway.post("/api/chat/uploads", data=form, headers=AUTH)
        return response.status, list((await response.json())["messages"])

    status, _ = await upload(text_pdf(), "营业执照.pdf", "application/pdf")
    assert status == 200
    [turn] = standins.rasa.messages_from(APPLICANT)
    assert turn.startswith("/upload_material") and '"content_type":"application/pdf"' in turn

    # Whatever the page or phone declares, the backend reads the bytes and names what it takes.
    status, [refusal] = await upload(b"just some words\n", "notes.pdf", "application/pdf")
    assert status == 200 and refusal["text"].startswith("不支持这种文件（文本文件）")
    assert "PDF" in refusal["text"] and "JPG" in refusal["text"]
    assert len(standins.rasa.messages_from(APPLICANT)) == 1
