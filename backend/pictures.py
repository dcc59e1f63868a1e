"""Pillow work off the event loop: normalising uploads, rendering licence cards and one-time notices.

Everything runs on one small thread pool, so a burst of uploads queues instead of starving the loop or
decoding a dozen 12-megapixel photos at once. Licence cards are cached on disk by what they show (the
card data's hash): a card is rendered once per licence revision, by whichever process asks first, and a
change to the licence gives a new key, so the cache is never stale. The cache is disposable.
"""

import asyncio
import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from backend.errors import ApiError
from backend.materials.imaging import MaterialLimits, MaterialResult, process_upload
from backend.materials.render import (
    FontNotFound,
    FontSet,
    LicenceCardData,
    NoticeData,
    find_fonts,
    render_licence_card,
    render_notice_png,
)
from backend.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class PicturesUnavailable(ApiError):
    """No CJK font on this server: a set-up fault, not the caller's."""

    status = 503
    code = "pictures_unavailable"


class Pictures:
    def __init__(self, settings: Settings) -> None:
        self.limits = MaterialLimits(
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.material_max_pixels,
            max_long_side=settings.material_max_long_side,
            min_short_side=settings.material_min_short_side,
        )
        self._font_path = settings.font_path
        self._cards = settings.data_dir / "cards"
        self._pool = ThreadPoolExecutor(max_workers=settings.imaging_threads, thread_name_prefix="imaging")

    async def run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def fonts(self) -> FontSet:
        try:
            return find_fonts(self._font_path)
        except (FontNotFound, OSError) as exc:
            raise PicturesUnavailable("暂时无法生成图片，请稍后再试") from exc

    async def warm_up(self) -> None:
        """Find and load the fonts once, so the first card does not pay for it; a missing font is logged
        here and answered as 503 when a picture is asked for."""
        try:
            fonts = await self.run(self.fonts)
            await self.run(functools.partial(fonts.font, 36, bold=True))
        except Exception as exc:
            log.warning("licence cards and notices cannot be drawn: %s", exc)

    async def process_upload(self, data: bytes) -> MaterialResult:
        return await self.run(functools.partial(process_upload, data, self.limits))

    async def notice_png(self, data: NoticeData) -> bytes:
        return await self.run(lambda: render_notice_png(data, self.fonts()))

    async def card_png(self, data: LicenceCardData) -> bytes:
        digest = hashlib.sha256(data.model_dump_json().encode() + str(self._font_path).encode()).hexdigest()
        path = self._cards / f"{data.licence_number}-{digest[:32]}.png"
        try:
            return await self.run(path.read_bytes)
        except FileNotFoundError:
            pass
        png = await self.run(lambda: render_licence_card(data, self.fonts()))
        await self.run(functools.partial(_keep_only, path, png))
        return png


def _keep_only(path: Path, png: bytes) -> None:
    """Write the card atomically and drop this licence's older cards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".card-")
    with os.fdopen(fd, "wb") as out:
        out.write(png)
    os.replace(tmp, path)
    number = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{number}-*.png"):
        if old != path:
            old.unlink(missing_ok=True)
