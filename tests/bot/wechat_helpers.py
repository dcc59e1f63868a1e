"""Talking to `/wechat` as WeChat does, and waiting for what the stand-ins record."""

import asyncio
import time
from collections.abc import Callable

from bot.wechat.simulator import WeChatSimulator, message_xml


async def deliver(gateway, simulator: WeChatSimulator, xml: str, *, encrypt: bool = True):
    request = simulator.request(xml, encrypt=encrypt)
    resp = await gateway.post("/wechat", params=request.params, data=request.body)
    body = await resp.text()
    assert resp.status == 200, body
    return simulator.read_reply(body)


def text(openid: str, content: str, **kw) -> str:
    return message_xml(openid, "text", Content=content, **kw)


def event(openid: str, name: str, key: str = "", **kw) -> str:
    fields = {"Event": name}
    if key:
        fields["EventKey"] = key
    return message_xml(openid, "event", **fields, **kw)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def custom_texts(state, openid: str) -> list[str]:
    return [
        call.body["text"]["content"]
        for call in state.sent("/cgi-bin/message/custom/send")
        if call.body.get("touser") == openid and call.body.get("msgtype") == "text"
    ]


def custom_images(state, openid: str) -> list[str]:
    return [
        call.body["image"]["media_id"]
        for call in state.sent("/cgi-bin/message/custom/send")
        if call.body.get("touser") == openid and call.body.get("msgtype") == "image"
    ]
