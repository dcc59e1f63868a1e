"""Human mode: in through the assistant's handoff payload, staff replies out, back on `handoff.closed`."""

import asyncio

from bot.app import create_app
from tests.bot.conftest import make_settings, publish
from tests.bot.wechat_helpers import custom_texts, deliver, event, eventually, text


async def test_wechat_user_is_handed_to_staff_and_back(gateway, simulator, standins, notifier, redis):
    reply = await deliver(gateway, simulator, text("oHuman", "转人工"))
    assert reply["Content"].startswith("好的，正在为您转接人工服务。")
    assert "结束人工" in reply["Content"]
    turns_before = len(standins.rasa.turns)

    # the next messages go to the backend's handoff conversation, not to the assistant
    assert await deliver(gateway, simulator, text("oHuman", "我的营业执照什么时候能办好？")) is None
    assert standins.backend.handoff_messages == [
        {"handoff_id": "h-1", "applicant": "wechat:oHuman", "text": "我的营业执照什么时候能办好？"}
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


async def test_exit_word_returns_to_the_assistant(gateway, simulator, standins):
    await deliver(gateway, simulator, text("oLeave", "人工"))
    reply = await deliver(gateway, simulator, text("oLeave", "结束人工"))
    assert reply["Content"] == "已结束人工服务，智能助手继续为您服务。"
    reply = await deliver(gateway, simulator, text("oLeave", "你好"))
    assert reply["Content"] == "（演示助手）收到：你好"
    assert standins.backend.handoff_messages == []


async def test_a_handoff_closed_in_the_backend_returns_the_user_transparently(gateway, simulator, standins):
    await deliver(gateway, simulator, text("oClosed", "人工"))
    standins.backend.closed_handoffs.add("h-1")
    reply = await deliver(gateway, simulator, text("oClosed", "还在吗"))
    assert reply["Content"] == "（演示助手）收到：还在吗"


async def test_web_user_in_human_mode_gets_staff_replies_by_polling(gateway, standins, notifier, redis):
    resp = await gateway.post("/api/chat/messages", json={"user_id": "u-human-0001", "text": "人工服务"})
    body = await resp.json()
    assert body["mode"] == "human"
    resp = await gateway.post(
        "/api/chat/messages", json={"user_id": "u-human-0001", "text": "请帮我看看材料"}
    )
    assert await resp.json() == {"messages": [], "mode": "human"}
    assert standins.backend.handoff_messages[-1]["applicant"] == "web:u-human-0001"

    await publish(redis, standins, "handoff.message", "web:u-human-0001", {"text": "材料齐全。"})
    await publish(redis, standins, "handoff.closed", "web:u-human-0001", {"handoff_id": "h-1"})
    polled: list[dict] = []

    async def poll() -> bool:
        resp = await gateway.get("/api/chat/notices", params={"user_id": "u-human-0001"})
        data = await resp.json()
        polled.extend(data["messages"])
        return len(polled) >= 2 and data["mode"] == "assistant"

    for _ in range(100):
        if await poll():
            break
        await asyncio.sleep(0.05)
    assert [m["text"] for m in polled][:2] == ["工作人员回复：材料齐全。", polled[1]["text"]]
    assert "人工服务已结束" in polled[1]["text"]


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
