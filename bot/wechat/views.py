"""`GET /wechat` (URL verification) and `POST /wechat` (messages and events)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from bot.appkeys import COMPONENTS
from bot.components import WeChatChannel
from bot.wechat.envelope import CallbackRejected
from bot.wechat.inbound import parse_inbound
from bot.wechat.replies import SUCCESS, render

log = logging.getLogger(__name__)


def _channel(request: web.Request) -> WeChatChannel:
    channel = request.app[COMPONENTS].wechat
    if channel is None or channel.crypto is None or channel.callback is None:
        raise web.HTTPNotFound()
    return channel


async def verify(request: web.Request) -> web.Response:
    channel = _channel(request)
    assert channel.crypto is not None
    try:
        echostr = channel.crypto.verify_url(request.query, now=time.time())
    except CallbackRejected as exc:
        return web.Response(status=exc.status, text=exc.reason)
    return web.Response(text=echostr)


async def receive(request: web.Request) -> web.Response:
    arrived = time.monotonic()
    channel = _channel(request)
    assert channel.crypto is not None and channel.callback is not None
    max_body = request.app[COMPONENTS].settings.wechat_max_body_bytes
    if request.content_length is not None and request.content_length > max_body:
        return web.Response(status=413, text="body too large")
    body = await _read_capped(request, max_body)
    if body is None:
        return web.Response(status=413, text="body too large")
    try:
        envelope = channel.crypto.open(request.query, body, now=time.time())
        inbound = parse_inbound(envelope.xml)
    except CallbackRejected as exc:
        log.warning("callback refused (%s): %s", exc.status, exc.reason)
        return web.Response(status=exc.status, text=exc.reason)
    try:
        passive = await channel.callback.handle(inbound, arrived=arrived)
    except Exception:
        # A 5xx would make WeChat retry and then show the person an error banner.
        log.exception("handling %s failed", inbound.dedupe_key)
        passive = SUCCESS
    xml = render(passive, openid=inbound.openid, account=inbound.account)
    if xml == "success":
        return web.Response(text=xml)
    return web.Response(
        text=channel.crypto.seal(xml, envelope), content_type="application/xml", charset="utf-8"
    )


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None once it passes `limit` (a chunked body has no Content-Length to check)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
