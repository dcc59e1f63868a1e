"""The web / mini-program chat API and page."""

import asyncio
import io

import aiohttp
import pytest
from PIL import Image

from bot.app import create_app
from bot.appkeys import COMPONENTS
from bot.messages import Text, UserRef
from bot.standin import card_png
from bot.webchat.views import size_label
from tests.bot.conftest import make_settings, web_auth

USER = "u-test-0001"


async def say(gateway, text, user_id=USER, headers=None):
    """One chat turn as the page sends it: with `user_id`'s session token unless `headers` say otherwise."""
    if headers is None:
        headers = web_auth(user_id)
    resp = await gateway.post("/api/chat/messages", json={"user_id": user_id, "text": text}, headers=headers)
    return resp.status, await resp.json()


def upload_form(
    data: bytes, filename: str, content_type: str, user_id: str | None = None
) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if user_id is not None:
        form.add_field("user_id", user_id)
    form.add_field("file", data, filename=filename, content_type=content_type)
    return form


async def test_text_turn_returns_messages(gateway, standins):
    status, body = await say(gateway, "你好")
    assert status == 200
    assert body == {"messages": [{"type": "text", "text": "（演示助手）收到：你好"}], "mode": "assistant"}
    assert standins.rasa.turns[0]["sender"] == f"web:{USER}"
    assert standins.rasa.turns[0]["metadata"] is None  # see RasaDialogue.turn


async def test_buttons_keep_their_payloads_and_a_payload_can_be_posted_back(gateway, standins):
    _, body = await say(gateway, "我要办证")
    [message] = body["messages"]
    assert message["type"] == "buttons"
    assert message["buttons"][0] == {"title": "饭店", "payload": '/choose_package{"package_id":"restaurant"}'}
    await say(gateway, message["buttons"][0]["payload"])
    assert standins.rasa.turns[-1]["message"] == '/choose_package{"package_id":"restaurant"}'


async def test_images_come_back_with_absolute_urls(gateway):
    _, body = await say(gateway, "我的证照")
    assert body["messages"][1]["type"] == "image"
    assert body["messages"][1]["url"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        ({"user_id": USER, "text": ""}, "empty_text", "请输入要发送的内容。"),
        ({"user_id": USER}, "bad_request", "请求格式不正确。"),
        ({"text": "字" * 2001}, "text_too_long", "消息太长了，请控制在 2000 字以内，或分几条发送。"),
        (["not", "an", "object"], "bad_request", "请求格式不正确。"),
    ],
)
async def test_bad_requests_get_a_friendly_400(gateway, payload, code, message):
    resp = await gateway.post("/api/chat/messages", json=payload, headers=web_auth(USER))
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == {"code": code, "message": message}
    assert body["messages"] == [{"type": "text", "text": message}]


async def test_a_bare_user_id_is_refused_by_default(gateway, standins):
    # Otherwise anyone who guesses an id could poll that person's notices or talk in their name.
    resp = await gateway.post("/api/chat/messages", json={"user_id": USER, "text": "你好"})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "login_required"
    resp = await gateway.get("/api/chat/notices", params={"user_id": USER})
    assert resp.status == 401
    resp = await gateway.post("/api/chat/uploads", data=upload_form(card_png(), "a.png", "image/png", USER))
    assert resp.status == 401
    assert standins.rasa.turns == [] and standins.backend.files == {}


async def test_bare_user_ids_when_tokens_are_switched_off(aiohttp_client, standins, redis_url):
    settings = make_settings(standins, redis_url, webchat_require_token=False)
    gateway = await aiohttp_client(create_app(settings))
    status, _ = await say(gateway, "你好", headers={})
    assert status == 200
    assert standins.rasa.turns[-1]["sender"] == f"web:{USER}"
    status, body = await say(gateway, "你好", user_id="x", headers={})
    assert status == 400 and body["error"]["code"] == "bad_user_id"


async def test_not_json_gets_400(gateway):
    resp = await gateway.post(
        "/api/chat/messages", data=b"{broken", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400


async def test_anonymous_session_token_is_accepted_and_checked(gateway, standins):
    resp = await gateway.post("/api/chat/session")
    session = await resp.json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    status, _ = await say(gateway, "你好", user_id=session["user_id"], headers=auth)
    assert status == 200
    assert standins.rasa.turns[-1]["sender"] == f"web:{session['user_id']}"
    status, _ = await say(gateway, "你好", user_id="u-someone-else", headers=auth)
    assert status == 403
    status, _ = await say(gateway, "你好", user_id="", headers={"Authorization": "Bearer x.y"})
    assert status == 401


async def test_upload_stores_a_material_and_relays_the_answer(gateway, standins):
    form = upload_form(card_png(), "licence.png", "image/png")
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    body = await resp.json()
    [(file_id, stored)] = standins.backend.files.items()
    assert stored["applicant"] == f"web:{USER}"
    assert body["messages"] == [
        {"type": "text", "text": f"已收到您的材料照片（文件编号 {file_id}），已为您登记。"}
    ]


def small_png() -> bytes:
    """Small enough for the stand-in backend to keep it with a quality warning (below 100 px wide)."""
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (120, 120, 120)).save(out, format="PNG")
    return out.getvalue()


async def test_quality_warnings_are_left_to_the_assistant(gateway, standins):
    # The assistant says them with the material the photo is filed as; the gateway once said them too.
    form = upload_form(small_png(), "dim.png", "image/png")
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    [file_id] = standins.backend.files
    assert (await resp.json())["messages"] == [
        {"type": "text", "text": f"已收到您的材料照片（文件编号 {file_id}），已为您登记。"}
    ]


async def test_upload_rejected_by_the_backend_relays_its_message(gateway, standins):
    form = upload_form(b"not really a png", "x.png", "image/png", USER)
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    assert (await resp.json())["messages"][0]["text"] == "图片无法识别，请重新拍摄后上传。"


async def test_upload_that_is_empty_or_too_large_is_refused(aiohttp_client, standins, redis_url):
    gateway = await aiohttp_client(
        create_app(make_settings(standins, redis_url, webchat_max_upload_bytes=1000))
    )
    form = upload_form(b"", "x.pdf", "application/pdf")
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "file_missing"
    form = upload_form(b"x" * 5000, "big.jpg", "image/jpeg")
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    assert resp.status == 413
    # The message names the limit in force, not the default one.
    assert "1 KB 以内" in (await resp.json())["messages"][0]["text"]
    assert standins.backend.files == {}


def test_size_labels() -> None:
    assert [size_label(n) for n in (10 * 1024 * 1024, 1536 * 1024, 512 * 1024, 1000)] == [
        "10 MB",
        "1.5 MB",
        "512 KB",
        "1 KB",
    ]


async def test_a_pdf_goes_to_the_backend_which_decides_what_it_takes(gateway, standins):
    # The gateway keeps no list of accepted types of its own: it once refused the PDFs the backend takes.
    form = upload_form(b"%PDF-1.7\n...", "licence.pdf", "application/pdf")
    resp = await gateway.post("/api/chat/uploads", data=form, headers=web_auth(USER))
    assert resp.status == 200
    [(file_id, stored)] = standins.backend.files.items()
    assert stored["content_type"] == "application/pdf"
    assert standins.rasa.turns[-1]["message"] == (
        f'/upload_material{{"file_id":"{file_id}","content_type":"application/pdf"}}'
    )


async def test_notices_wait_for_the_next_poll_once(gateway):
    await gateway.server.app[COMPONENTS].notices.put(UserRef("web", USER), [Text("您的申请已受理。")])
    resp = await gateway.get("/api/chat/notices", headers=web_auth(USER))
    assert (await resp.json())["messages"] == [{"type": "text", "text": "您的申请已受理。"}]
    resp = await gateway.get("/api/chat/notices", headers=web_auth(USER))
    assert (await resp.json())["messages"] == []


async def test_mini_program_login_issues_a_token_the_chat_accepts(gateway, standins):
    resp = await gateway.post("/api/chat/login", json={"code": "code-1"})
    login = await resp.json()
    assert login["user_id"] == "oMini-code-1"
    assert "session_key" not in login
    status, _ = await say(gateway, "你好", user_id="", headers={"Authorization": f"Bearer {login['token']}"})
    assert status == 200
    assert standins.rasa.turns[-1]["sender"] == "miniprogram:oMini-code-1"
    # a code works once; code2session took no access token
    assert (await gateway.post("/api/chat/login", json={"code": "code-1"})).status == 401
    assert "access_token" not in standins.wechat.sent("/sns/jscode2session")[0].params
    assert standins.wechat.token_fetches["wxmini0000000001"] == 0


async def test_mini_program_subscribe_consents_are_counted(gateway, redis):
    login = await (await gateway.post("/api/chat/login", json={"code": "c2"})).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    resp = await gateway.post("/api/chat/subscriptions", json={"template_ids": ["T1", "T1"]}, headers=auth)
    assert (await resp.json())["consents"] == {"T1": 2}
    resp = await gateway.post("/api/chat/subscriptions", json={"template_ids": ["T1"]})
    assert resp.status == 401
    resp = await gateway.post(
        "/api/chat/subscriptions", json={"template_ids": ["T1"]}, headers=web_auth(USER)
    )
    assert resp.status == 403


async def test_per_user_rate_limit_answers_a_friendly_429(aiohttp_client, standins, redis_url):
    settings = make_settings(standins, redis_url, rate_limit_user_per_minute=3)
    gateway = await aiohttp_client(create_app(settings))
    statuses = [(await say(gateway, "你好"))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = await gateway.post("/api/chat/messages", json={"text": "再来"}, headers=web_auth(USER))
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["messages"][0]["text"].startswith("您发送得太快了")
    assert (await say(gateway, "你好", user_id="u-another-user"))[0] == 200
    assert len(standins.rasa.turns) == 4


async def test_per_ip_rate_limit(aiohttp_client, standins, redis_url):
    settings = make_settings(standins, redis_url, rate_limit_ip_per_minute=2)
    gateway = await aiohttp_client(create_app(settings))
    statuses = [(await say(gateway, "你好", user_id=f"u-user-{i:04}"))[0] for i in range(3)]
    assert statuses == [200, 200, 429]


async def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(aiohttp_client, standins, redis_url):
    settings = make_settings(standins, redis_url, rate_limit_ip_per_minute=2)
    gateway = await aiohttp_client(create_app(settings))
    statuses = []
    for i in range(3):
        spoofed = web_auth(f"u-user-{i:04}") | {"X-Forwarded-For": f"203.0.113.{i + 1}"}
        statuses.append((await say(gateway, "你好", user_id=f"u-user-{i:04}", headers=spoofed))[0])
    assert statuses == [200, 200, 429]


async def test_behind_a_trusted_proxy_each_client_is_limited_separately(aiohttp_client, standins, redis_url):
    settings = make_settings(
        standins, redis_url, rate_limit_ip_per_minute=2, trusted_proxies="10.0.0.0/8, 127.0.0.1"
    )
    gateway = await aiohttp_client(create_app(settings))

    async def from_client(forwarded_for: str, user_id: str) -> int:
        headers = web_auth(user_id) | {"X-Forwarded-For": forwarded_for}
        return (await say(gateway, "你好", user_id=user_id, headers=headers))[0]

    # Through two of our proxies (10.0.0.3 in front of the peer 127.0.0.1).
    assert [await from_client("203.0.113.7, 10.0.0.3", f"u-a-{i:04}") for i in range(2)] == [200, 200]
    assert await from_client("203.0.113.7", "u-a-0003") == 429
    # Whatever the client itself wrote further left does not give it a fresh allowance.
    assert await from_client("198.51.100.1, 203.0.113.7", "u-a-0004") == 429
    # Someone else behind the same proxy is not held back.
    assert await from_client("198.51.100.9", "u-b-0001") == 200


async def test_chat_page_is_served(gateway):
    resp = await gateway.get("/")
    page = await resp.text()
    assert resp.status == 200
    assert "证照联办" in page and 'capture="environment"' in page
    # It talks with a session token, never a self-chosen id (WEBCHAT_REQUIRE_TOKEN is on by default).
    assert "/api/chat/session" in page and "Bearer" in page and "user_id" not in page


async def test_a_message_delivered_twice_at_once_is_one_turn_with_one_answer(gateway, standins):
    # Taken as a second turn, the copy would be out of context: "not understood", which twice in a row
    # hands the person to staff.
    standins.rasa.delay = 0.3
    payload = {"text": "你好", "message_id": "m-0001"}

    async def post() -> tuple[int, dict]:
        resp = await gateway.post("/api/chat/messages", json=payload, headers=web_auth(USER))
        return resp.status, await resp.json()

    first, copy = await asyncio.gather(post(), post())
    assert (
        first
        == copy
        == (200, {"messages": [{"type": "text", "text": "（演示助手）收到：你好"}], "mode": "assistant"})
    )
    assert standins.rasa.messages_from(f"web:{USER}") == ["你好"]
    assert await post() == first  # a late retry too
    # Another message with the same words is a turn of its own.
    await say(gateway, "你好")
    assert standins.rasa.messages_from(f"web:{USER}") == ["你好", "你好"]
