"""Fixed-window request limits in Redis, shared by every gateway copy."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class RateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "gw:rl:", window: int = 60) -> None:
        self._redis = redis
        self._prefix = prefix
        self._window = window

    async def hit(self, subject: str, limit: int, *, now: float | None = None) -> Verdict:
        """Count one request for `subject`; refuse once `limit` were made in the current window."""
        if limit <= 0:
            return Verdict(True)
        moment = now or time.time()
        window = int(moment // self._window)
        key = f"{self._prefix}{subject}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window + 1)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return Verdict(True)
        return Verdict(False, retry_after=max(1, int((window + 1) * self._window - moment)))
