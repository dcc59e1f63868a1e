"""Human mode: in through the assistant's handoff payload, staff replies out, back on `handoff.closed`."""

import asyncio
import socket

from bot.app import create_app
from bot.conversation import FORWARDED
from tests.bot.conftest import make_settings, publish, web_auth
from tests.bot.test_webchat import small_png
from tests.bot.wechat_helpers import custom_texts, deliver, event, eventually, text


async def test_wechat_user_is_handed_to_staff_and_back(gateway, simulator, standins, notifier, redis):
    reply = await deliver(gateway, simulator, text("oHuman", "转人工"))
    assert reply["Content"].startswith("好的，正在为您转接人工服务。")
    assert "结束人工" in reply["Content"]
    turns_before = len(standins.rasa.turns)

    # the next messages go to the backend's handoff conversation, not to the assistant; the first gets a
    # receipt (the person should not wonder whether it arrived), the next ones in a live chat do not
    receipt = await deliver(gateway, simulator, text("oHuman", "我的营业执照什么时候能办好？"))
    assert receipt is not None and receipt["Content"] == FORWARDED
    assert await deliver(gateway, simulator, text("oHuman", "急用")) is None
    assert standins.backend.handoff_messages == [
        {"handoff_id": "h-1", "applicant": "wechat:oHuman", "text": "我的营业执照什么时候能办好？"},
        {"handoff_id": "h-1", "applicant": "wechat:oHuman", "text": "急用"},
    ]
    assert len(standins.rasa.turns) == turns_before

    # a staff reply reaches the phone as a customer-service message (inside the 48-hour window)
    await publish(
        redis, standins, "handoff.message", "wechat:oHuman", {"handoff_id": "h-1", "text": "预计三个工作日。"}
    )
    await eventually(lambda: "工作人员回复：预计三个工作日。" in custom_texts(standins.wechat, "oHuman"))

    # staff hand back: the assistant answers again, with the conversation it had
    await publish(redis, standins, "handoff.closed", "wechat:oHuman", {"handoff_id": "h-1"})
    await eventually(lambda: any("人工服务已结束" in t for t in custom_texts(standins.wechat, "oHuman")))
    reply = await deliver(gateway, simulator, text("oHuman", "谢谢"))
    assert reply["Content"] == "（演示助手）收到：谢谢"
    assert standins.rasa.turns[-1]["sender"] == "wechat:oHuman"


async def test_images_in_human_mode_are_stored_and_forwarded_to_staff(gateway, simulator, standins):
    from bot.standin import card_png
    from bot.wechat.simulator import message_xml

    await deliver(gateway, simulator, text("oHumanPhoto", "人工"))
    standins.wechat.media["M-1"] = (card_png(), "image/png")
    await deliver(gateway, simulator, message_xml("oHumanPhoto", "image", MediaId="M-1", PicUrl="http://x"))
    [file_id] = standins.backend.files
    assert standins.backend.handoff_messages[-1]["text"] == f"[图片] 文件编号 {file_id}"

    # No assistant to explain a poor photo: the gateway passes the backend's warning on.
    standins.wechat.media["M-2"] = (small_png(), "image/png")
    reply = await deliver(
        gateway, simulator, message_xml("oHumanPhoto", "image", MediaId="M-2", PicUrl="http://x")
    )
    assert reply is not None and reply["Content"] == "照片有些模糊，如审核需要可能请您重拍。"


async def test_exit_word_returns_to_the_assistant_and_closes_the_handoff(gateway, simulator, standins):
    await deliver(gateway, simulator, text("oLeave", "人工"))
    reply = await deliver(gateway, simulator, text("oLeave", "结束人工"))
    assert reply["Content"] == "已结束人工服务，智能助手继续为您服务。"
    # so the staff console no longer shows the person as waiting
    assert standins.backend.handoff_closes == [{"handoff_id": "h-1", "applicant": "wechat:oLeave"}]
    reply = await deliver(gateway, simulator, text("oLeave", "你好"))
    assert reply["Content"] == "（演示助手）收到：你好"
    assert standins.backend.handoff_messages == []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_exit_word_works_while_the_backend_is_down(aiohttp_client, standins, redis_url, simulator):
    settings = make_settings(standins, redis_url, backend_url=f"http://127.0.0.1:{closed_port()}")
    gateway = await aiohttp_client(create_app(settings))
    await deliver(gateway, simulator, text("oDown", "人工"))
    reply = await deliver(gateway, simulator, text("oDown", "退出人工"))
    assert reply["Content"] == "已结束人工服务，智能助手继续为您服务。"
    reply = await deliver(gateway, simulator, text("oDown", "你好"))
    assert reply["Content"] == "（演示助手）收到：你好"


async def test_leaving_with_an_exit_word_brings_only_the_rating_prompt(
    gateway, simulator, standins, notifier, redis
):
    await deliver(gateway, simulator, text("oRate", "人工"))
    await deliver(gateway, simulator, text("oRate", "结束人工"))
    # what the backend emits for that close
    await publish(
        redis, standins, "handoff.closed", "wechat:oRate", {"handoff_id": "h-1", "closed_by": "applicant"}
    )
    await eventually(lambda: any("打个分" in t for t in custom_texts(standins.wechat, "oRate")))
    [prompt] = custom_texts(standins.wechat, "oRate")
    assert "人工服务已结束" not in prompt, "the gateway has already said goodbye"
    assert "回复 1 1分 非常不满意" in prompt and "回复 5 5分 非常满意" in prompt

    await deliver(gateway, simulator, text("oRate", "2"))
    assert standins.rasa.turns[-1]["message"] == '/rate{"score": "2", "handoff_id": "h-1"}'


async def test_a_handoff_closed_in_the_backend_returns_the_user_transparently(gateway, simulator, standins):
    await deliver(gateway, simulator, text("oClosed", "人工"))
    standins.backend.closed_handoffs.add("h-1")
    reply = await deliver(gateway, simulator, text("oClosed", "还在吗"))
    assert reply["Content"] == "（演示助手）收到：还在吗"


async def test_web_user_in_human_mode_gets_staff_replies_by_polling(gateway, standins, notifier, redis):
    auth = web_auth("u-human-0001")
    resp = await gateway.post("/api/chat/messages", json={"text": "人工服务"}, headers=auth)
    body = await resp.json()
    assert body["mode"] == "human"
    resp = await gateway.post("/api/chat/messages", json={"text": "请帮我看看材料"}, headers=auth)
    assert await resp.json() == {"messages": [{"type": "text", "text": FORWARDED}], "mode": "human"}
    assert standins.backend.handoff_messages[-1]["applicant"] == "web:u-human-0001"

    await publish(redis, standins, "handoff.message", "web:u-human-0001", {"text": "材料齐全。"})
    await publish(redis, standins, "handoff.closed", "web:u-human-0001", {"handoff_id": "h-1"})
    polled: list[dict] = []

    async def poll() -> bool:
        resp = await gateway.get("/api/chat/notices", headers=auth)
        data = await resp.json()
        polled.extend(data["messages"])
        return len(polled) >= 3 and data["mode"] == "assistant"

    for _ in range(100):
        if await poll():
            break
        await asyncio.sleep(0.05)
    assert [m["type"] for m in polled] == ["text", "text", "buttons"]
    assert polled[0]["text"] == "工作人员回复：材料齐全。"
    assert "人工服务已结束" in polled[1]["text"]
    # the web page shows the score buttons as they are; a click posts the payload back
    assert polled[2]["buttons"][4] == {
        "title": "5分 非常满意",
        "payload": '/rate{"score": "5", "handoff_id": "h-1"}',
    }


async def test_wechat_kf_mode_transfers_messages_until_wechat_closes_the_session(
    aiohttp_client, standins, redis_url, simulator
):
    settings = make_settings(standins, redis_url, wechat_handoff="wechat_kf")
    gateway = await aiohttp_client(create_app(settings))
    await deliver(gateway, simulator, text("oKf", "人工"))
    reply = await deliver(gateway, simulator, text("oKf", "你好，客服"))
    assert reply["MsgType"] == "transfer_customer_service"
    assert standins.backend.handoff_messages == []
    assert await deliver(gateway, simulator, event("oKf", "kf_close_session")) is None
    reply = await deliver(gateway, simulator, text("oKf", "你好"))
    assert reply["Content"] == "（演示助手）收到：你好"


async def test_a_score_tapped_while_talking_to_staff_goes_to_the_rating(
    gateway, simulator, standins, notifier, redis
):
    await deliver(gateway, simulator, text("oBusy", "人工"))
    # the licence is issued while the person is still talking to staff
    await publish(
        redis,
        standins,
        "licence.issued",
        "wechat:oBusy",
        {"licence_number": "LY-2026-000123"},
        application_code="ZL-20261122-ABCDEF",
    )
    await eventually(lambda: any("打个分" in t for t in custom_texts(standins.wechat, "oBusy")))
    await deliver(gateway, simulator, text("oBusy", "5"))
    assert standins.rasa.turns[-1]["message"] == (
        '/rate{"score": "5", "application_code": "ZL-20261122-ABCDEF"}'
    )
    assert standins.backend.handoff_messages == []  # staff are not sent the payload
    # and the person is still with staff afterwards
    await deliver(gateway, simulator, text("oBusy", "还有一个问题"))
    assert standins.backend.handoff_messages[-1]["text"] == "还有一个问题"
