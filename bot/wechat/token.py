"""One WeChat access token for the whole deployment, kept in Redis.

Every `/cgi-bin/token` fetch invalidates the previous token (after a 5-minute overlap) and the account
may fetch only 2000 a day, so gateway copies and the notifier must never fetch on their own: the first
caller that finds no token takes a Redis lock, fetches once and stores the token with a TTL shorter than
its life; everyone else waits for it. After 40001 / 40014 / 42001 a caller asks for a refresh *of the token
that failed*; if someone already replaced it, the new one is returned without another fetch, so a burst
of failures costs one fetch, not a stampede.

The fetch is done here with aiohttp rather than by wechatpy, whose token URL is hard-coded to
api.weixin.qq.com (so tests and local runs could not point it at the stand-in) and whose token fetch has
no timeout.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

import aiohttp
from redis.asyncio import Redis

from bot.store import text

log = logging.getLogger(__name__)

# Fetch a new token this long before the old one dies: the old one stays valid 5 minutes after a fetch.
EXPIRY_MARGIN = 300
LOCK_TTL = 15.0

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class TokenUnavailable(Exception):
    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


class AccessTokenStore:
    def __init__(
        self,
        redis: Redis,
        http: aiohttp.ClientSession,
        *,
        api_base: str,
        appid: str,
        secret: str,
        prefix: str = "gw:",
    ) -> None:
        self._redis = redis
        self._http = http
        self._url = api_base.rstrip("/") + "/cgi-bin/token"
        self._appid = appid
        self._secret = secret
        self.key = f"{prefix}wx-token:{appid}"
        self._lock_key = self.key + ":lock"
        self._release = redis.register_script(_RELEASE)

    async def get(self) -> str:
        token = text(await self._redis.get(self.key))
        return token if token else await self._obtain(stale=None)

    async def refresh(self, stale: str) -> str:
        """A new token after WeChat rejected `stale`; at most one fetch however many callers ask."""
        return await self._obtain(stale=stale)

    async def _obtain(self, stale: str | None) -> str:
        deadline = time.monotonic() + LOCK_TTL + 5
        while True:
            token = text(await self._redis.get(self.key))
            if token and token != stale:
                return token
            owner = secrets.token_hex(8)
            if await self._redis.set(self._lock_key, owner, nx=True, px=int(LOCK_TTL * 1000)):
                try:
                    # Re-check under the lock: the previous holder may have just stored a fresh one.
                    token = text(await self._redis.get(self.key))
                    if token and token != stale:
                        return token
                    token, expires_in = await self._fetch()
                    await self._redis.set(self.key, token, ex=max(60, expires_in - EXPIRY_MARGIN))
                    return token
                finally:
                    await self._release(keys=[self._lock_key], args=[owner])
            if time.monotonic() > deadline:
                raise TokenUnavailable("timed out waiting for another process to fetch the token")
            await asyncio.sleep(0.05)

    async def _fetch(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
        log.info("fetching a WeChat access token for %s", self._appid)
        try:
            async with self._http.get(
                self._url, params=params, timeout=aiohttp.ClientTimeout(total=10)
            ) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TokenUnavailable(f"token fetch failed: {exc or type(exc).__name__}") from exc
        if not isinstance(data, dict) or not data.get("access_token"):
            errcode = data.get("errcode") if isinstance(data, dict) else None
            raise TokenUnavailable(f"token fetch refused: {data}", errcode)
        return str(data["access_token"]), int(data.get("expires_in", 7200))
