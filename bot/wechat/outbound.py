"""Active messages to an Official Account user through the customer-service (客服) API."""

from __future__ import annotations

import asyncio
import logging

from bot.messages import Message, UserRef
from bot.wechat.api import WeChatApi, WeChatApiError
from bot.wechat.media import MediaCache
from bot.wechat.options import OptionMenus
from bot.wechat.rendering import ImagePart, Part, TextPart, render_messages

log = logging.getLogger(__name__)

IMAGE_FAILED = "（图片暂时无法发送，请稍后再试）"


class WeChatOutbound:
    def __init__(
        self, api: WeChatApi, media: MediaCache, options: OptionMenus, *, pause: float = 0.3
    ) -> None:
        self._api = api
        self._media = media
        self._options = options
        # A short pause keeps several messages in order on the phone (WeChat does not promise order).
        self._pause = pause

    async def prepare(
        self, user: UserRef, messages: tuple[Message, ...] | list[Message], *, replace_menu: bool
    ) -> list[Part]:
        """Render for WeChat and remember the numbered menu (a notice without buttons keeps the old one)."""
        rendered = render_messages(messages)
        if rendered.menu or replace_menu:
            await self._options.remember(user, rendered.menu)
        return rendered.parts

    async def image_media_id(self, url: str) -> str:
        return await self._media.media_id_for(url)

    async def send(self, openid: str, parts: list[Part]) -> None:
        """Send in order; WeChatApiError (e.g. 45015 outside the 48-hour window) stops and propagates."""
        for index, part in enumerate(parts):
            if index:
                await asyncio.sleep(self._pause)
            match part:
                case TextPart(text):
                    await self._api.send_text(openid, text)
                case ImagePart(url):
                    try:
                        media_id = await self._media.media_id_for(url)
                    except WeChatApiError:
                        log.exception("cannot upload image %s", url)
                        await self._api.send_text(openid, IMAGE_FAILED)
                        continue
                    await self._api.send_image(openid, media_id)
