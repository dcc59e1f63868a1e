"""What the gateway knows about reaching a person, kept in Redis.

* the time of the person's last message: WeChat accepts customer-service messages only within 48 hours
  of it (error 45015 otherwise), so the notifier picks the template message outside that window;
* the QR-code scene they came from (e.g. a service-hall window);
* whether they still follow the Official Account;
* mini-program subscribe consents (one consent, one send; WeChat offers no way to read the count);
* template-message delivery results (`TEMPLATESENDJOBFINISH`).

Losing this data is safe: the notifier then falls back to the template message / the poll queue.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.messages import UserRef
from bot.store import text_map

SERVICE_WINDOW = 48 * 3600
# Clocks and queues differ; stop using the window a little early rather than hit 45015.
SERVICE_WINDOW_MARGIN = 15 * 60
TEMPLATE_RECORD_TTL = 30 * 24 * 3600

_TAKE_CONSENT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then
  redis.call('DECR', KEYS[1])
  return 1
end
return 0
"""


class Contacts:
    def __init__(self, redis: Redis, *, prefix: str = "gw:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._take_consent = redis.register_script(_TAKE_CONSENT)

    def _key(self, kind: str, user: UserRef) -> str:
        return f"{self._prefix}{kind}:{user.applicant}"

    async def touch(self, user: UserRef, *, now: float | None = None) -> None:
        await self._redis.set(self._key("seen", user), str(now or time.time()), ex=SERVICE_WINDOW + 3600)

    async def within_service_window(self, user: UserRef, *, now: float | None = None) -> bool:
        raw = await self._redis.get(self._key("seen", user))
        if raw is None:
            return False
        return (now or time.time()) - float(raw) < SERVICE_WINDOW - SERVICE_WINDOW_MARGIN

    async def set_scene(self, user: UserRef, scene: str) -> None:
        await self._redis.set(self._key("scene", user), scene, ex=30 * 24 * 3600)

    async def set_following(self, user: UserRef, following: bool) -> None:
        if following:
            await self._redis.delete(self._key("unfollowed", user))
        else:
            await self._redis.set(self._key("unfollowed", user), str(time.time()))
            await self._redis.delete(self._key("seen", user))

    async def following(self, user: UserRef) -> bool:
        return not await self._redis.exists(self._key("unfollowed", user))

    async def add_consents(self, user: UserRef, template_id: str, count: int = 1) -> int:
        return int(await self._redis.incrby(f"{self._key('consent', user)}:{template_id}", count))

    async def take_consent(self, user: UserRef, template_id: str) -> bool:
        key = f"{self._key('consent', user)}:{template_id}"
        return bool(await self._take_consent(keys=[key]))

    async def clear_consents(self, user: UserRef, template_id: str) -> None:
        await self._redis.delete(f"{self._key('consent', user)}:{template_id}")

    async def record_template_sent(self, msgid: str, *, applicant: str, event_id: str) -> None:
        key = f"{self._prefix}template:{msgid}"
        await self._redis.hset(key, mapping={"applicant": applicant, "event_id": event_id, "status": "sent"})
        await self._redis.expire(key, TEMPLATE_RECORD_TTL)

    async def record_template_result(self, msgid: str, status: str) -> None:
        key = f"{self._prefix}template:{msgid}"
        await self._redis.hset(key, mapping={"status": status, "finished_at": str(time.time())})
        await self._redis.expire(key, TEMPLATE_RECORD_TTL)

    async def template_record(self, msgid: str) -> dict[str, str]:
        return text_map(await self._redis.hgetall(f"{self._prefix}template:{msgid}"))
