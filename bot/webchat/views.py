"""The web / mini-program chat API.

Identity: a mini-program user logs in (`POST /api/chat/login {"code"}` → code2session) and sends the
returned token as `Authorization: Bearer …`; a browser does the same with an anonymous session from
`POST /api/chat/session`. Only with `WEBCHAT_REQUIRE_TOKEN=false` (trusted set-ups, old clients) may it
instead send a `user_id` of its own choosing, which anyone who guesses it could also use.

`POST /api/chat/messages` may carry `message_id` (chosen by the page, the same on every retry): a message
delivered twice is one turn, and the copy gets the first delivery's answer. Uploads are forwarded whatever
they declare: the backend alone decides which files it takes, and says so when it refuses one.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import urljoin

from aiohttp import BodyPartReader, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, Field, ValidationError

from bot.appkeys import COMPONENTS
from bot.components import Components
from bot.messages import Image, Message, Reply, UserRef, to_json
from bot.sessions import InvalidToken
from bot.wechat.api import WeChatApiError

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
TOO_FAST = "您发送得太快了，请稍等 {seconds} 秒再试。"
TOO_LARGE = "文件太大了，请上传 {limit} 以内的照片或 PDF 文件。"
NO_FILE = "没有收到文件，请重新选择照片或 PDF 文件上传。"
MAX_TEXT = 2000
TOO_LONG = f"消息太长了，请控制在 {MAX_TEXT} 字以内，或分几条发送。"
LOGIN_FAILED = "登录失败，请重新打开小程序再试。"


class ChatIn(BaseModel):
    user_id: str = ""
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    # Chosen by the page, the same on every delivery of one message: a copy is not a second turn.
    message_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")


class LoginIn(BaseModel):
    code: str = Field(min_length=1, max_length=200)


class SubscriptionsIn(BaseModel):
    template_ids: list[str] = Field(min_length=1, max_length=20)


_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    body = {"error": {"code": code, "message": message}, "messages": [{"type": "text", "text": message}]}
    return _json(body, status=status, headers=headers)


class ChatRefused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _components(request: web.Request) -> Components:
    return request.app[COMPONENTS]


def _identify(request: web.Request, claimed: str) -> UserRef:
    parts = _components(request)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        try:
            user = parts.sessions.verify(auth.removeprefix("Bearer ").strip())
        except InvalidToken:
            raise ChatRefused(_error(401, "invalid_token", "登录已过期，请刷新页面后再试。")) from None
        if claimed and claimed != user.user_id:
            raise ChatRefused(_error(403, "wrong_user", "身份信息不一致，请刷新页面后再试。"))
        return user
    if parts.settings.webchat_require_token:
        raise ChatRefused(_error(401, "login_required", "请先登录。"))
    if not USER_ID.match(claimed):
        raise ChatRefused(_error(400, "bad_user_id", "缺少有效的 user_id。"))
    return UserRef("web", claimed)


async def _limit(request: web.Request, user: UserRef | None) -> None:
    parts = _components(request)
    client = parts.proxies.client_ip(request.remote, request.headers.getall("X-Forwarded-For", []))
    checks = [(f"ip:{client}", parts.settings.rate_limit_ip_per_minute)]
    if user is not None:
        checks.append((f"user:{user.applicant}", parts.settings.rate_limit_user_per_minute))
    for subject, limit in checks:
        verdict = await parts.limiter.hit(subject, limit)
        if not verdict.allowed:
            seconds = str(verdict.retry_after)
            raise ChatRefused(
                _error(429, "rate_limited", TOO_FAST.format(seconds=seconds), **{"Retry-After": seconds})
            )


def _public(message: Message, base: str) -> dict[str, Any]:
    if isinstance(message, Image):
        # Backend-relative image URLs (licence cards) must resolve against the backend, not the gateway.
        return to_json(Image(urljoin(base.rstrip("/") + "/", message.url)))
    return to_json(message)


def _reply_body(request: web.Request, reply: Reply) -> dict[str, Any]:
    base = _components(request).settings.public_backend_url
    return {
        "messages": [_public(m, base) for m in reply.messages],
        "mode": "human" if reply.human_mode else "assistant",
    }


def _reply_json(request: web.Request, reply: Reply) -> web.Response:
    return _json(_reply_body(request, reply))


async def _json_body(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(await request.json())
    except ValidationError as error:
        # What a person can put right says so; anything else is the page's fault, not theirs.
        kinds = {(tuple(e["loc"]), e["type"]) for e in error.errors()}
        if (("text",), "string_too_long") in kinds:
            raise ChatRefused(_error(400, "text_too_long", TOO_LONG)) from None
        if (("text",), "string_too_short") in kinds:
            raise ChatRefused(_error(400, "empty_text", "请输入要发送的内容。")) from None
        raise ChatRefused(_error(400, "bad_request", "请求格式不正确。")) from None
    except ValueError:
        raise ChatRefused(_error(400, "bad_request", "请求格式不正确。")) from None


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ChatRefused as refused:
        return refused.response


async def post_message(request: web.Request) -> web.Response:
    body: ChatIn = await _json_body(request, ChatIn)
    user = _identify(request, body.user_id)
    await _limit(request, user)
    parts = _components(request)
    if not body.message_id:
        return _reply_json(request, await parts.conversation.say(user, body.text.strip()))
    # A copy of a message must not be a turn of its own: the assistant would take the repeat out of
    # context as not understood, and twice not understood hands the person to staff.
    key = f"{user.applicant}:{body.message_id}"
    if not await parts.web_dedupe.claim(key):
        deadline = time.monotonic() + parts.settings.rasa_timeout
        state = await parts.web_dedupe.wait(key, deadline=deadline)
        if state is not None and state.reply is not None:
            return _json(json.loads(state.reply))
        return _json({"messages": [], "mode": "human" if await parts.modes.current(user) else "assistant"})
    try:
        reply = await parts.conversation.say(user, body.text.strip())
    except BaseException:
        await parts.web_dedupe.release(key)
        raise
    answer = _reply_body(request, reply)
    await parts.web_dedupe.finish(key, _dumps(answer))
    return _json(answer)


def size_label(size: int) -> str:
    """A byte count as people read it: 10 MB, 512 KB."""
    mb = 1024 * 1024
    if size >= mb:
        return f"{size / mb:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


async def post_upload(request: web.Request) -> web.Response:
    parts = _components(request)
    limit = parts.settings.webchat_max_upload_bytes
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise ChatRefused(_error(400, "bad_request", "请以 multipart/form-data 上传。")) from None
    claimed, data, filename, content_type = "", b"", "upload", ""
    while (field := await reader.next()) is not None:
        if not isinstance(field, BodyPartReader):
            continue
        if field.name == "user_id":
            claimed = (await field.read(decode=True)).decode("utf-8", "replace")[:100]
        elif field.name == "file":
            filename = field.filename or "upload"
            content_type = field.headers.get("Content-Type", "").split(";")[0].strip().lower()
            chunks: list[bytes] = []
            size = 0
            while chunk := await field.read_chunk():
                size += len(chunk)
                if size > limit:
                    raise ChatRefused(_error(413, "too_large", TOO_LARGE.format(limit=size_label(limit))))
                chunks.append(chunk)
            data = b"".join(chunks)
    user = _identify(request, claimed)
    await _limit(request, user)
    if not data:
        raise ChatRefused(_error(400, "file_missing", NO_FILE))
    # Which files are taken is the backend's call alone (it reads the bytes, not the declared type): a
    # list here would drift from it, as it once refused the PDFs the backend accepts. A refusal comes
    # back with the backend's own message naming what it takes.
    reply = await parts.conversation.upload(user, data=data, filename=filename, content_type=content_type)
    return _reply_json(request, reply)


async def get_notices(request: web.Request) -> web.Response:
    user = _identify(request, request.query.get("user_id", ""))
    parts = _components(request)
    messages = await parts.notices.take(user)
    mode = "human" if await parts.modes.current(user) else "assistant"
    base = parts.settings.public_backend_url
    for message in messages:
        if message.get("type") == "image":
            message["url"] = urljoin(base.rstrip("/") + "/", str(message["url"]))
    return _json({"messages": messages, "mode": mode})


async def post_session(request: web.Request) -> web.Response:
    """An anonymous browser session: a random user id and a token for it."""
    await _limit(request, None)
    user = UserRef("web", "w-" + secrets.token_urlsafe(18))
    sessions = _components(request).sessions
    return _json({"user_id": user.user_id, "token": sessions.issue(user), "expires_in": sessions.ttl})


async def post_login(request: web.Request) -> web.Response:
    """Mini-program login: `wx.login()` code → openid (code2session) → our session token."""
    parts = _components(request)
    await _limit(request, None)
    body: LoginIn = await _json_body(request, LoginIn)
    if parts.miniprogram is None:
        return _error(404, "miniprogram_disabled", "小程序登录未开通。")
    try:
        session = await parts.miniprogram.code_to_session(body.code)
    except WeChatApiError as exc:
        log.warning("code2session failed: %s", exc)
        return _error(401, "login_failed", LOGIN_FAILED)
    # The session_key stays on the server side of WeChat: we never need it, so it is not kept.
    user = UserRef("miniprogram", str(session["openid"]))
    return _json(
        {"user_id": user.user_id, "token": parts.sessions.issue(user), "expires_in": parts.sessions.ttl}
    )


async def post_subscriptions(request: web.Request) -> web.Response:
    """The mini-program reports `wx.requestSubscribeMessage` acceptances: one acceptance, one send."""
    body: SubscriptionsIn = await _json_body(request, SubscriptionsIn)
    user = _identify(request, "")
    if user.channel != "miniprogram":
        return _error(403, "miniprogram_only", "仅小程序用户可以订阅消息。")
    contacts = _components(request).contacts
    counts = {tid: await contacts.add_consents(user, tid) for tid in body.template_ids}
    return _json({"consents": counts})
