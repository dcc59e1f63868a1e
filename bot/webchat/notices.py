"""Messages waiting for a web / mini-program user's next poll (`GET /api/chat/notices`)."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from bot.messages import Message, UserRef, to_json

KEEP_FOR = 14 * 24 * 3600
MAX_QUEUED = 200


class NoticeQueue:
    def __init__(self, redis: Redis, *, prefix: str = "gw:") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, user: UserRef) -> str:
        return f"{self._prefix}notices:{user.applicant}"

    async def put(self, user: UserRef, messages: list[Message]) -> None:
        if not messages:
            return
        key = self._key(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(json.dumps(to_json(m), ensure_ascii=False) for m in messages))
            pipe.ltrim(key, -MAX_QUEUED, -1)
            pipe.expire(key, KEEP_FOR)
            await pipe.execute()

    async def take(self, user: UserRef) -> list[dict[str, Any]]:
        """Everything queued, removed atomically so two polls never both get a message."""
        key = self._key(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            raw, _ = await pipe.execute()
        return [json.loads(item) for item in raw]
