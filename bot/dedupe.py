"""At-most-once processing of a delivery that may arrive several times, across every gateway copy.

WeChat re-sends a message when it got no answer within 5 s (3 tries), possibly to another gateway
copy. The first copy to `claim` the key processes it; the key then moves, atomically, from
`processing` to exactly one of:

* `done:<reply>` — the reply is ready and goes back passively (a retry gets the same reply);
* `deferred` — the reply budget ran out; the reply goes later through the customer-service API
  (a retry must then answer `success`, or the person would get it twice).

Whichever of "turn finished" and "budget ran out" happens first wins the compare-and-set; the loser
sees the other state and acts on it.

The web / mini-program chat uses the same keys for a message id the page chooses: a message sent twice
(a double tap, a retry over a flaky network) is one turn, and the copy gets the first one's answer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.store import text

PROCESSING = "processing"
DEFERRED = "deferred"
DONE_PREFIX = "done:"

# KEYS[1] = key, ARGV = expected, new value, ttl seconds
_CAS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""


# KEYS[1] = key, ARGV = expected value
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class State:
    processing: bool = False
    deferred: bool = False
    reply: str | None = None  # set when done

    @classmethod
    def parse(cls, raw: str | None) -> State | None:
        if raw is None:
            return None
        if raw == PROCESSING:
            return cls(processing=True)
        if raw == DEFERRED:
            return cls(deferred=True)
        return cls(reply=raw.removeprefix(DONE_PREFIX))


class Deduper:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        processing_ttl: int = 120,
        done_ttl: int = 600,
        poll_interval: float = 0.05,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._processing_ttl = processing_ttl
        self._done_ttl = done_ttl
        self._poll = poll_interval
        self._cas = redis.register_script(_CAS)
        self._delete_if = redis.register_script(_DELETE_IF)

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def claim(self, key: str) -> bool:
        return bool(await self._redis.set(self._key(key), PROCESSING, nx=True, ex=self._processing_ttl))

    async def finish(self, key: str, reply: str) -> bool:
        """processing → done(reply). False when the budget already ran out (state is deferred)."""
        return await self._swap(key, DONE_PREFIX + reply)

    async def defer(self, key: str) -> bool:
        """processing → deferred. False when the reply became ready first."""
        return await self._swap(key, DEFERRED)

    async def release(self, key: str) -> None:
        """processing → unclaimed: the turn failed before it had a reply, so a retry may run it again."""
        await self._delete_if(keys=[self._key(key)], args=[PROCESSING])

    async def _swap(self, key: str, value: str) -> bool:
        result = await self._cas(keys=[self._key(key)], args=[PROCESSING, value, self._done_ttl])
        return bool(result)

    async def state(self, key: str) -> State | None:
        return State.parse(text(await self._redis.get(self._key(key))))

    async def wait(self, key: str, *, deadline: float) -> State | None:
        """Poll until the key leaves `processing` or the monotonic `deadline` passes."""
        while True:
            state = await self.state(key)
            if state is None or not state.processing or time.monotonic() >= deadline:
                return state
            await asyncio.sleep(min(self._poll, max(0.0, deadline - time.monotonic())))
