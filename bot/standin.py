"""Local stand-ins for what lies outside the gateway: the WeChat server API, Rasa's REST channel and the
few backend endpoints the gateway calls. For tests, the bench and `make run` without real credentials.

WeChat API stand-in (`python -m bot wechat-standin`, point `WECHAT_API_BASE` at it): token, customer-service
send, template send, media upload / download, menu create, code2session, subscribe send. Tokens behave like
WeChat's: each fetch issues a new one and the previous one keeps working only for `token_overlap` seconds.
It records every call and can be told to fail or be slow, in-process through `WeChatStandinState` or over
HTTP under `/_standin/` (`GET calls?since=`, `POST fail {"path","errcode","times"}`,
`POST slow {"path","seconds"}`, `POST expire-tokens`, `POST media` (raw image → media id), `POST reset`).

Rasa stand-in (`python -m bot rasa-standin`): a scripted assistant for the gateway's paths — buttons,
images, long texts, handoff, material upload, and a slow turn ("慢").

Backend stand-in (tests and bench only): files, handoff messages and closes, events and cursors.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from PIL import Image as PILImage
from PIL import ImageDraw

# ----------------------------------------------------------------------------------------- WeChat API


@dataclass
class ApiCall:
    path: str
    params: dict[str, str]
    body: Any
    at: float
    errcode: int = 0  # what the stand-in answered; 0 = accepted


@dataclass
class WeChatStandinState:
    token_overlap: float = 300.0
    calls: list[ApiCall] = field(default_factory=list)
    token_fetches: Counter[str] = field(default_factory=Counter)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    delays: dict[str, float] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (appid, valid until)
    _current: dict[str, str] = field(default_factory=dict)  # appid → newest token
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        self.failures[path].extend([errcode] * times)

    def slow(self, path: str, seconds: float) -> None:
        self.delays[path] = seconds

    def expire_tokens(self) -> None:
        self._tokens.clear()
        self._current.clear()

    def reset(self) -> None:
        self.calls.clear()
        self.token_fetches.clear()
        self.failures.clear()
        self.delays.clear()

    def sent(self, path: str) -> list[ApiCall]:
        """Accepted calls to `path` (refused ones stay in `calls`)."""
        return [call for call in self.calls if call.path == path and call.errcode == 0]

    def tried(self, path: str) -> list[ApiCall]:
        return [call for call in self.calls if call.path == path]

    def issue_token(self, appid: str, expires_in: int) -> str:
        now = time.time()
        old = self._current.get(appid)
        if old in self._tokens:
            self._tokens[old] = (appid, min(self._tokens[old][1], now + self.token_overlap))
        token = f"TOKEN-{appid}-{next(self._ids)}"
        self._tokens[token] = (appid, now + expires_in)
        self._current[appid] = token
        return token

    def token_error(self, token: str) -> int | None:
        found = self._tokens.get(token)
        if found is None:
            return 40001
        return 42001 if found[1] < time.time() else None

    def next_id(self) -> int:
        return next(self._ids)


WECHAT_STATE = web.AppKey("wechat_standin_state", WeChatStandinState)
CALL = web.RequestKey("standin_call", ApiCall)
ApiHandler = Callable[[web.Request, Any], Awaitable[dict[str, Any] | web.Response]]


def _api(path: str, *, needs_token: bool = True) -> Callable[[ApiHandler], web.RouteDef]:
    """Register an API endpoint that records the call, honours delays / failures and checks the token."""

    def wrap(handler: ApiHandler) -> web.RouteDef:
        async def view(request: web.Request) -> web.StreamResponse:
            state = request.app[WECHAT_STATE]
            body: Any = None
            if request.content_type == "application/json" or (
                request.method == "POST" and not request.content_type.startswith("multipart/")
            ):
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            call = ApiCall(path, dict(request.query), body, time.time())
            state.calls.append(call)
            request[CALL] = call
            if delay := state.delays.get(path):
                await asyncio.sleep(delay)
            if needs_token and (code := state.token_error(request.query.get("access_token", ""))):
                call.errcode = code
                return web.json_response({"errcode": code, "errmsg": "invalid credential (stand-in)"})
            if state.failures.get(path):
                call.errcode = state.failures[path].popleft()
                return web.json_response(
                    {"errcode": call.errcode, "errmsg": f"told to fail with {call.errcode}"}
                )
            result = await handler(request, body)
            if isinstance(result, web.Response):
                return result
            call.errcode = int(result.get("errcode", 0))
            return web.json_response(result)

        method = "GET" if path in GET_PATHS else "POST"
        return web.route(method, path, view)

    return wrap


GET_PATHS = frozenset({"/cgi-bin/token", "/cgi-bin/media/get", "/sns/jscode2session"})


@_api("/cgi-bin/token", needs_token=False)
async def _token(request: web.Request, body: Any) -> dict[str, Any]:
    state = request.app[WECHAT_STATE]
    appid = request.query.get("appid", "")
    if not appid or not request.query.get("secret"):
        return {"errcode": 40125, "errmsg": "invalid appsecret"}
    state.token_fetches[appid] += 1
    return {"access_token": state.issue_token(appid, 7200), "expires_in": 7200}


@_api("/cgi-bin/message/custom/send")
async def _custom_send(request: web.Request, body: Any) -> dict[str, Any]:
    content = body.get("text", {}).get("content", "") if isinstance(body, dict) else ""
    if len(content.encode("utf-8")) > 2048:
        return {"errcode": 45002, "errmsg": "content size out of limit"}
    return {"errcode": 0, "errmsg": "ok"}


@_api("/cgi-bin/message/template/send")
async def _template_send(request: web.Request, body: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", "msgid": request.app[WECHAT_STATE].next_id()}


@_api("/cgi-bin/message/subscribe/send")
async def _subscribe_send(request: web.Request, body: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok"}


@_api("/cgi-bin/menu/create")
async def _menu_create(request: web.Request, body: Any) -> dict[str, Any]:
    buttons = body.get("button", []) if isinstance(body, dict) else []
    if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button", [])) > 5 for b in buttons):
        return {"errcode": 40017, "errmsg": "invalid button size"}
    return {"errcode": 0, "errmsg": "ok"}


@_api("/cgi-bin/media/upload")
async def _media_upload(request: web.Request, body: Any) -> dict[str, Any]:
    state = request.app[WECHAT_STATE]
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "media":
            data = await part.read()
            if len(data) > 10 * 1024 * 1024:
                return {"errcode": 40006, "errmsg": "invalid meida size"}
            media_id = f"MEDIA-{state.next_id()}"
            state.media[media_id] = (bytes(data), part.headers.get("Content-Type", "image/jpeg"))
            request[CALL].body = {"media_id": media_id, "bytes": len(data)}
            return {
                "type": request.query.get("type", "image"),
                "media_id": media_id,
                "created_at": int(time.time()),
            }
    return {"errcode": 41005, "errmsg": "media data missing"}


@_api("/cgi-bin/media/get")
async def _media_get(request: web.Request, body: Any) -> dict[str, Any] | web.Response:
    found = request.app[WECHAT_STATE].media.get(request.query.get("media_id", ""))
    if found is None:
        return {"errcode": 40007, "errmsg": "invalid media_id"}
    data, content_type = found
    return web.Response(body=data, content_type=content_type)


@_api("/sns/jscode2session", needs_token=False)
async def _code2session(request: web.Request, body: Any) -> dict[str, Any]:
    state = request.app[WECHAT_STATE]
    code = request.query.get("js_code", "")
    if not code or code.startswith("bad"):
        return {"errcode": 40029, "errmsg": "invalid code"}
    if code in state.used_codes:
        return {"errcode": 40163, "errmsg": "code been used"}
    state.used_codes.add(code)
    return {"openid": f"oMini-{code}", "session_key": "c3RhbmQtaW4ta2V5"}


async def _control_calls(request: web.Request) -> web.Response:
    state = request.app[WECHAT_STATE]
    since = int(request.query.get("since", "0"))
    calls = [
        {"index": i, "path": c.path, "body": c.body, "at": c.at, "errcode": c.errcode}
        for i, c in enumerate(state.calls[since:], start=since)
        if c.path != "/cgi-bin/token"
    ]
    return web.json_response({"calls": calls, "next": len(state.calls)})


async def _control(request: web.Request) -> web.Response:
    state = request.app[WECHAT_STATE]
    action = request.match_info["action"]
    if action == "media":
        media_id = f"MEDIA-{state.next_id()}"
        state.media[media_id] = (await request.read(), request.content_type or "image/jpeg")
        return web.json_response({"media_id": media_id})
    body = await request.json() if request.can_read_body else {}
    match action:
        case "fail":
            state.fail(body["path"], int(body["errcode"]), int(body.get("times", 1)))
        case "slow":
            state.slow(body["path"], float(body["seconds"]))
        case "expire-tokens":
            state.expire_tokens()
        case "reset":
            state.reset()
        case _:
            raise web.HTTPNotFound()
    return web.json_response({"ok": True})


def create_wechat_standin(state: WeChatStandinState | None = None) -> web.Application:
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[WECHAT_STATE] = state or WeChatStandinState()
    app.add_routes(
        [
            _token,
            _custom_send,
            _template_send,
            _subscribe_send,
            _menu_create,
            _media_upload,
            _media_get,
            _code2session,
        ]
    )
    app.router.add_get("/_standin/calls", _control_calls)
    app.router.add_post("/_standin/{action}", _control)
    return app


# ----------------------------------------------------------------------------------------- Rasa REST


@dataclass
class RasaStandinState:
    delay: float = 0.0  # added to every turn (bench, slow-path tests)
    slow_seconds: float = 6.0  # a turn containing "慢"
    turns: list[dict[str, Any]] = field(default_factory=list)
    _handoffs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def messages_from(self, sender: str) -> list[str]:
        return [t["message"] for t in self.turns if t["sender"] == sender]


RASA_STATE = web.AppKey("rasa_standin_state", RasaStandinState)
LONG_ANSWER = "根据证照联办改革的实施方案，申请人可以一次提交全部材料，各部门并联审批、限时办结。" * 30
PACKAGES = (("饭店", "restaurant"), ("超市", "supermarket"), ("药店", "pharmacy"))


def _rasa_answer(message: str, state: RasaStandinState, base: str) -> list[dict[str, Any]]:
    if message.startswith("/upload_material"):
        entities = json.loads(message.removeprefix("/upload_material") or "{}")
        return [{"text": f"已收到您的材料照片（文件编号 {entities.get('file_id')}），已为您登记。"}]
    if message.startswith("/share_location"):
        return [{"text": "已收到您的位置，正在为您查找最近的政务服务大厅。"}]
    if message.startswith("/rate"):
        return [{"text": "感谢您的评价！如有意见建议，也可以直接告诉我。"}]
    if message == "/human_handoff" or "人工" in message:
        return [
            {"text": "好的，正在为您转接人工服务。"},
            {"custom": {"handoff": {"id": f"h-{next(state._handoffs)}"}}},
        ]
    if message == "/apply_licence" or "办证" in message or "开" in message:
        buttons = [
            {"title": name, "payload": f'/choose_package{{"package_id":"{pid}"}}'} for name, pid in PACKAGES
        ]
        return [{"text": "请问您要开办哪类店铺？", "buttons": buttons}]
    if message.startswith("/choose_package"):
        return [{"text": f"好的，已为您选择：{message}。接下来请回答几个问题。"}]
    if message == "/my_licences" or "证照" in message:
        return [{"text": "这是您的行业综合许可证："}, {"image": f"{base}/standin/card.png"}]
    if "长" in message:
        return [{"text": LONG_ANSWER}]
    if message == "/ask_policy":
        return [{"text": "请问您想了解哪方面的政策？例如：容缺受理、告知承诺、办理时限。"}]
    if message == "/check_progress":
        return [{"text": "您还没有提交过申请。"}]
    if message == "办完了吗":  # what the assistant says about a completed application
        scores = [{"title": f"{n}分", "payload": f'/rate{{"score": "{n}"}}'} for n in range(1, 6)]
        return [
            {"text": "已全部办结！", "buttons": [{"title": "亮证", "payload": "/show_licence"}]},
            {"text": "请为本次服务打个分吧（1-5分，5分最满意）：", "buttons": scores},
        ]
    return [{"text": f"（演示助手）收到：{message}"}]


async def _rasa_webhook(request: web.Request) -> web.Response:
    state = request.app[RASA_STATE]
    data = await request.json()
    sender, message = str(data.get("sender", "")), str(data.get("message", ""))
    state.turns.append({"sender": sender, "message": message, "metadata": data.get("metadata")})
    if state.delay:
        await asyncio.sleep(state.delay)
    if "慢" in message:
        await asyncio.sleep(state.slow_seconds)
    answer = _rasa_answer(message, state, str(request.url.origin()))
    return web.json_response([{"recipient_id": sender, **item} for item in answer])


def card_png(text: str = "LICENCE XK-2024-000001 (stand-in)") -> bytes:
    image = PILImage.new("RGB", (640, 400), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 629, 389), outline=(180, 30, 30), width=6)
    draw.text((40, 40), text, fill=(120, 20, 20))  # the default font has no CJK glyphs
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def _card(request: web.Request) -> web.Response:
    return web.Response(body=card_png(), content_type="image/png")


async def _rasa_status(request: web.Request) -> web.Response:
    return web.json_response({"model_file": "standin", "num_active_training_jobs": 0})


def create_rasa_standin(state: RasaStandinState | None = None) -> web.Application:
    app = web.Application()
    app[RASA_STATE] = state or RasaStandinState()
    app.router.add_post("/webhooks/rest/webhook", _rasa_webhook)
    app.router.add_get("/status", _rasa_status)
    app.router.add_get("/standin/card.png", _card)
    return app


# ----------------------------------------------------------------------------------------- backend


@dataclass
class BackendStandinState:
    service_key: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    handoff_messages: list[dict[str, str]] = field(default_factory=list)
    closed_handoffs: set[str] = field(default_factory=set)
    handoff_closes: list[dict[str, str]] = field(default_factory=list)  # who closed what, in order
    events: list[dict[str, Any]] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    cursor_puts: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_event(self, type_: str, applicant: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
        event = {
            "id": str(next(self._ids)),
            "type": type_,
            "applicant": applicant,
            "application_code": extra.get("application_code", "ZL-20240601-7K3M9Q"),
            "payload": payload,
            "created_at": "2024-06-01T09:00:00+08:00",
        }
        self.events.append(event)
        return event


BACKEND_STATE = web.AppKey("backend_standin_state", BackendStandinState)


def _backend_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def _service_key(request: web.Request, handler: Any) -> web.StreamResponse:
    state = request.app[BACKEND_STATE]
    if state.service_key and request.headers.get("X-Service-Key") != state.service_key:
        return _backend_error(401, "unauthorized", "服务密钥无效。")
    response: web.StreamResponse = await handler(request)
    return response


async def _files(request: web.Request) -> web.Response:
    state = request.app[BACKEND_STATE]
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data = bytes(await part.read())
            # Like the backend: what a file is comes from its bytes; PDFs are kept as they are.
            pdf = data.startswith(b"%PDF-")
            width: int | None = None
            height: int | None = None
            if not pdf:
                try:
                    with PILImage.open(io.BytesIO(data)) as image:
                        width, height = image.size
                except OSError:
                    return _backend_error(400, "unreadable_image", "图片无法识别，请重新拍摄后上传。")
            file_id = f"f-{next(state._ids)}"
            state.files[file_id] = {
                "applicant": request.headers.get("X-Applicant", ""),
                "bytes": len(data),
                "content_type": part.headers.get("Content-Type", ""),
            }
            warnings = ["照片有些模糊，如审核需要可能请您重拍。"] if width is not None and width < 100 else []
            return web.json_response(
                {
                    "file_id": file_id,
                    "content_type": "application/pdf" if pdf else "image/png",
                    "width": width,
                    "height": height,
                    "warnings": warnings,
                    "thumbnail_url": None,
                },
                status=201,
            )
    return _backend_error(400, "file_missing", "没有收到文件。")


async def _handoff_message(request: web.Request) -> web.Response:
    state = request.app[BACKEND_STATE]
    handoff_id = request.match_info["handoff_id"]
    if handoff_id in state.closed_handoffs:
        return _backend_error(404, "handoff_not_found", "人工服务已结束。")
    body = await request.json()
    state.handoff_messages.append(
        {"handoff_id": handoff_id, "applicant": request.headers.get("X-Applicant", ""), "text": body["text"]}
    )
    return web.json_response({"ok": True}, status=201)


async def _handoff_close(request: web.Request) -> web.Response:
    state = request.app[BACKEND_STATE]
    handoff_id = request.match_info["handoff_id"]
    state.closed_handoffs.add(handoff_id)
    state.handoff_closes.append(
        {"handoff_id": handoff_id, "applicant": request.headers.get("X-Applicant", "")}
    )
    return web.json_response({"id": handoff_id, "status": "closed"})


async def _events(request: web.Request) -> web.Response:
    state = request.app[BACKEND_STATE]
    after = request.query.get("after")
    limit = int(request.query.get("limit", "200"))
    ids = [e["id"] for e in state.events]
    start = ids.index(after) + 1 if after in ids else 0
    return web.json_response({"events": state.events[start : start + limit]})


async def _cursor(request: web.Request) -> web.Response:
    state = request.app[BACKEND_STATE]
    consumer = request.match_info["consumer"]
    if request.method == "PUT":
        state.cursors[consumer] = str((await request.json())["last_id"])
        state.cursor_puts += 1
    if consumer not in state.cursors:
        return _backend_error(404, "cursor_not_found", "没有记录。")
    return web.json_response({"consumer": consumer, "last_id": state.cursors[consumer]})


def create_backend_standin(state: BackendStandinState | None = None) -> web.Application:
    app = web.Application(middlewares=[_service_key], client_max_size=20 * 1024 * 1024)
    app[BACKEND_STATE] = state or BackendStandinState()
    app.router.add_post("/api/v1/files", _files)
    app.router.add_post("/api/v1/handoffs/{handoff_id}/messages", _handoff_message)
    app.router.add_post("/api/v1/handoffs/{handoff_id}/close", _handoff_close)
    app.router.add_get("/api/v1/events", _events)
    app.router.add_route("*", "/api/v1/events/cursors/{consumer}", _cursor)
    return app
