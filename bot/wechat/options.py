"""The last numbered menu shown to each WeChat user, so "2" can be turned back into a button payload.

Only the *last* reply's menu counts: a reply without buttons forgets it, because a bare number is then a
real answer (a floor area, a head count) and must reach the assistant unchanged.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping

from redis.asyncio import Redis

from bot.messages import UserRef

MENU_TTL = 24 * 3600


class OptionMenus:
    def __init__(self, redis: Redis, *, prefix: str = "gw:") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, user: UserRef) -> str:
        return f"{self._prefix}menu:{user.applicant}"

    async def remember(self, user: UserRef, menu: Mapping[int, str]) -> None:
        """`menu`: the payload of each number shown (numbers need not be 1…n: score options carry their
        score, bot.wechat.rendering)."""
        if menu:
            stored = {str(number): payload for number, payload in menu.items()}
            await self._redis.set(self._key(user), json.dumps(stored, ensure_ascii=False), ex=MENU_TTL)
        else:
            await self._redis.delete(self._key(user))

    async def resolve(self, user: UserRef, text: str) -> str:
        """The payload for a menu number, or `text` unchanged."""
        # NFKC turns full-width digits (１２) from Chinese keyboards into ASCII ones.
        number = unicodedata.normalize("NFKC", text).strip()
        if not number.isdecimal() or len(number) > 3:
            return text
        raw = await self._redis.get(self._key(user))
        if raw is None:
            return text
        stored = json.loads(raw)
        if isinstance(stored, list):  # written before menus had their own numbers: 1…n
            stored = {str(index): payload for index, payload in enumerate(stored, 1)}
        return str(stored.get(str(int(number)), text))
