"""The WeChat server API through wechatpy's blocking client, run in a bounded thread pool — except the
message sends.

wechatpy has no async client; every call does blocking network I/O, so it runs in `executor` threads and
never on the event loop. The sends the notifier makes by the thousand (customer-service, template and
subscribe messages: one JSON POST each) go over the gateway's aiohttp session instead: through
wechatpy's requests-in-threads they cost 2.6 ms of CPU each and held the notifier to ~380 sends/s on one
core (GIL-bound), measured with `scripts/bench_gateway.py`. Bodies and error handling are WeChat's
documented ones, the same wechatpy builds.

Neither path fetches or caches a token itself: wechatpy's session storage reads the token that
`AccessTokenStore` handed to the calling task (a context variable copied into the thread), and a rejected
token (40001 / 40014 / 42001) makes *this* wrapper ask the store for a refresh and retry once.
`WECHAT_API_BASE` redirects every call (tests and local runs use `bot.standin`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import aiohttp
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from bot.wechat.token import AccessTokenStore, TokenUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_REJECTED = frozenset({40001, 40014, 42001})
OUT_OF_SERVICE_WINDOW = 45015  # no user message within 48 h, or the user unfollowed
TOO_MANY_CS_MESSAGES = 45047
SUBSCRIPTION_USED_UP = 43101

_current_token: contextvars.ContextVar[str] = contextvars.ContextVar("wechat_access_token")


class WeChatApiError(Exception):
    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class _TaskTokenStorage(SessionStorage):  # type: ignore[misc]
    def get(self, key: str, default: Any = None) -> Any:
        return _current_token.get(default)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Tokens are stored by AccessTokenStore only."""

    def delete(self, key: str) -> None:
        """Tokens are stored by AccessTokenStore only."""


class _Client(WeChatClient):  # type: ignore[misc]
    def fetch_access_token(self) -> Any:
        raise RuntimeError("access tokens come from the shared AccessTokenStore")


class WeChatApi:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        api_base: str,
        tokens: AccessTokenStore,
        executor: Executor,
        http: aiohttp.ClientSession,
        timeout: float,
    ) -> None:
        base = api_base.rstrip("/")
        self.appid = appid
        self._secret = secret
        self._base = base
        self.tokens = tokens
        self._executor = executor
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._client = _Client(appid, secret, session=_TaskTokenStorage(), timeout=timeout, auto_retry=False)
        self._client.API_BASE_URL = base + "/cgi-bin/"
        self._client.wxa.API_BASE_URL = base + "/"

    async def _run(self, token: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        context = contextvars.copy_context()
        context.run(_current_token.set, token)
        call = functools.partial(context.run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def _with_token(self, attempt: Callable[[str], Awaitable[T]]) -> T:
        try:
            token = await self.tokens.get()
            try:
                return await attempt(token)
            except WeChatApiError as exc:
                if exc.errcode not in TOKEN_REJECTED:
                    raise
                log.info("WeChat rejected the access token (%s); refreshing once", exc.errcode)
                token = await self.tokens.refresh(stale=token)
                return await attempt(token)
        except TokenUnavailable as exc:
            raise WeChatApiError(exc.errcode, str(exc)) from exc

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def attempt(token: str) -> T:
            try:
                return await self._run(token, fn, *args, **kwargs)
            except WeChatClientException as exc:
                raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc
            except requests.RequestException as exc:
                raise WeChatApiError(None, f"network: {exc}") from exc

        return await self._with_token(attempt)

    async def _send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a message body to `cgi-bin/<path>`; WeChat's errcode becomes WeChatApiError."""
        data = json.dumps(body, ensure_ascii=False).encode()

        async def attempt(token: str) -> dict[str, Any]:
            try:
                async with self._http.post(
                    f"{self._base}/cgi-bin/{path}",
                    params={"access_token": token},
                    data=data,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                    timeout=self._timeout,
                ) as response:
                    result = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise WeChatApiError(None, f"network: {exc or type(exc).__name__}") from exc
            if not isinstance(result, dict):
                raise WeChatApiError(None, f"unexpected answer: {result!r}")
            if result.get("errcode"):
                raise WeChatApiError(int(result["errcode"]), str(result.get("errmsg", "")))
            return result

        return await self._with_token(attempt)

    # Official Account
    async def send_text(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._send("message/custom/send", body)

    async def send_image(self, openid: str, media_id: str) -> None:
        body = {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}
        await self._send("message/custom/send", body)

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], *, url: str | None = None
    ) -> str:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if url:
            body["url"] = url
        result = await self._send("message/template/send", body)
        return str(result.get("msgid", ""))

    async def upload_image(self, data: bytes, *, filename: str, content_type: str) -> str:
        result = await self._call(self._client.media.upload, "image", (filename, data, content_type))
        if not isinstance(result, dict) or "media_id" not in result:
            raise WeChatApiError(None, f"unexpected upload answer: {result!r}")
        return str(result["media_id"])

    async def download_media(self, media_id: str) -> tuple[bytes, str]:
        result = await self._call(self._client.media.download, media_id)
        if isinstance(result, requests.Response):
            return result.content, result.headers.get("Content-Type", "application/octet-stream")
        raise WeChatApiError(None, f"unexpected media answer: {result!r}")

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call(self._client.menu.create, menu)

    # Mini-program (a WeChatApi built with the mini-program's appid and secret)
    async def code_to_session(self, code: str) -> dict[str, Any]:
        # jscode2session takes no access token; passing params as a list of pairs keeps wechatpy from
        # adding one (and from fetching a token for it).
        params = [
            ("appid", self.appid),
            ("secret", self._secret),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ]
        call = functools.partial(
            self._client.get, "sns/jscode2session", params=params, api_base_url=self._base + "/"
        )
        try:
            result = await self._run("", call)
        except WeChatClientException as exc:
            raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc
        except requests.RequestException as exc:
            raise WeChatApiError(None, f"network: {exc}") from exc
        if not isinstance(result, dict) or not result.get("openid"):
            raise WeChatApiError(None, f"unexpected code2session answer: {result!r}")
        return result

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, str], *, page: str | None, state: str
    ) -> None:
        # wechatpy's wxa.send_subscribe_message has no miniprogram_state, so post the body directly.
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
            "miniprogram_state": state,
            "lang": "zh_CN",
        }
        if page:
            body["page"] = page
        await self._send("message/subscribe/send", body)
