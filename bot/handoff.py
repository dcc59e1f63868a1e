"""Human mode: which people are talking to staff instead of the assistant.

How a handoff starts: a custom action creates it in the backend (`POST /api/v1/handoffs`) and the
assistant's reply carries the custom payload

    {"custom": {"handoff": {"id": "<the backend's handoff id>"}}}

(Rasa: `dispatcher.utter_message(json_message={"handoff": {"id": handoff["id"]}})`). The gateway then
records the mode here; the person's next messages go to `POST /api/v1/handoffs/{id}/messages` instead of
the assistant. Staff replies arrive as `handoff.message` events and the notifier delivers them;
`handoff.closed` ends the mode and the assistant carries on with the conversation it had (its tracker
never saw the human part).

With `WECHAT_HANDOFF=wechat_kf` an Official Account user is instead forwarded to WeChat's own
customer-service system (a `transfer_customer_service` reply per message) until WeChat reports
`kf_close_session`.

The mode expires on its own after `ttl` seconds without a message, so nobody is stuck if staff never
close the conversation; the person can also leave with one of `EXIT_WORDS`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from bot.messages import UserRef

Desk = Literal["backend", "wechat_kf"]
EXIT_WORDS = frozenset({"结束人工", "退出人工", "返回助手", "结束人工服务"})

# Delete the mode only if it still belongs to the handoff being closed (a newer one may have started).
_END_IF = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if ARGV[1] == '' or cjson.decode(raw)['handoff_id'] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class HumanMode:
    handoff_id: str
    desk: Desk
    since: float


# How often a message forwarded to staff is acknowledged ("已转给工作人员").
RECEIPT_SECONDS = 120


class HandoffModes:
    def __init__(self, redis: Redis, *, ttl: int = 24 * 3600, prefix: str = "gw:") -> None:
        self._redis = redis
        self._ttl = ttl
        self._prefix = prefix
        self._end_if = redis.register_script(_END_IF)

    def _key(self, user: UserRef) -> str:
        return f"{self._prefix}mode:{user.applicant}"

    async def current(self, user: UserRef) -> HumanMode | None:
        raw = await self._redis.get(self._key(user))
        if raw is None:
            return None
        data = json.loads(raw)
        return HumanMode(str(data["handoff_id"]), data.get("desk", "backend"), float(data["since"]))

    async def start(self, user: UserRef, handoff_id: str, *, desk: Desk = "backend") -> None:
        value = json.dumps({"handoff_id": handoff_id, "desk": desk, "since": time.time()})
        await self._redis.set(self._key(user), value, ex=self._ttl)

    async def keep_alive(self, user: UserRef) -> None:
        await self._redis.expire(self._key(user), self._ttl)

    async def due_receipt(self, user: UserRef, *, every: int = RECEIPT_SECONDS) -> bool:
        """Whether a message forwarded to staff should be acknowledged now: the first one, then at most
        once every `every` seconds, so a person is never left wondering and a live chat is not noisy."""
        return bool(await self._redis.set(f"{self._prefix}receipt:{user.applicant}", "1", ex=every, nx=True))

    async def end(self, user: UserRef, handoff_id: str | None = None) -> bool:
        """Back to the assistant; with `handoff_id`, only if that handoff is the current one."""
        return bool(await self._end_if(keys=[self._key(user)], args=[handoff_id or ""]))
