"""Images for WeChat: fetched from their URL, uploaded as temporary media, media ids cached.

A temporary media id lives 3 days, so it is cached (by content hash, because a licence card keeps its URL
when its content changes) for a little less. The docs disagree on the image limit (2 MB vs 10 MB);
anything above 2 MB is re-encoded smaller first.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from urllib.parse import urljoin

import aiohttp
from PIL import Image as PILImage
from redis.asyncio import Redis

from bot.store import text
from bot.wechat.api import WeChatApi, WeChatApiError

log = logging.getLogger(__name__)

MEDIA_TTL = 3 * 24 * 3600 - 6 * 3600
SAFE_IMAGE_BYTES = 2 * 1024 * 1024
MAX_FETCH_BYTES = 20 * 1024 * 1024


def shrink_image(data: bytes, limit: int = SAFE_IMAGE_BYTES) -> bytes:
    """Re-encode as JPEG, halving the size until it fits under `limit`."""
    with PILImage.open(io.BytesIO(data)) as original:
        image = original.convert("RGB")
    side = max(image.size)
    while True:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85, optimize=True)
        if out.tell() <= limit or side < 200:
            return out.getvalue()
        side //= 2
        image.thumbnail((side, side))


class MediaCache:
    def __init__(
        self,
        redis: Redis,
        http: aiohttp.ClientSession,
        api: WeChatApi,
        *,
        base_url: str,
        prefix: str = "gw:",
    ) -> None:
        self._redis = redis
        self._http = http
        self._api = api
        self._base_url = base_url.rstrip("/") + "/"
        self._prefix = prefix

    async def media_id_for(self, url: str) -> str:
        data, content_type = await self._fetch(urljoin(self._base_url, url))
        if len(data) > SAFE_IMAGE_BYTES or content_type not in ("image/jpeg", "image/png"):
            try:
                data = await asyncio.to_thread(shrink_image, data)
            except (OSError, ValueError) as exc:  # not an image Pillow can read
                raise WeChatApiError(None, f"image {url} cannot be converted: {exc}") from exc
            content_type = "image/jpeg"
        key = f"{self._prefix}media:{self._api.appid}:{hashlib.sha256(data).hexdigest()}"
        cached = text(await self._redis.get(key))
        if cached:
            return cached
        extension = "png" if content_type == "image/png" else "jpg"
        media_id = await self._api.upload_image(
            data, filename=f"image.{extension}", content_type=content_type
        )
        await self._redis.set(key, media_id, ex=MEDIA_TTL)
        return media_id

    async def _fetch(self, url: str) -> tuple[bytes, str]:
        try:
            async with self._http.get(url, timeout=aiohttp.ClientTimeout(total=15)) as resp:
                if resp.status != 200:
                    raise WeChatApiError(None, f"image {url} answered HTTP {resp.status}")
                data = await resp.content.read(MAX_FETCH_BYTES + 1)
                content_type = resp.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatApiError(None, f"image {url}: {exc or type(exc).__name__}") from exc
        if len(data) > MAX_FETCH_BYTES:
            raise WeChatApiError(None, f"image {url} is too large")
        return data, content_type
