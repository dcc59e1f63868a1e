"""Transactional outbox: `record` adds an event row in the caller's transaction; the relay publishes
committed rows to the Redis Stream in id order. The stream entry id is `<event id>-0`, so publishing twice
is refused by Redis instead of duplicating, and a consumer that lost Redis replays from the table."""

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import EncodableT, FieldT
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db import begin_write
from backend.models import Event, EventCursor, utcnow

log = logging.getLogger(__name__)


def record(
    session: AsyncSession,
    type_: str,
    *,
    applicant: str | None = None,
    application_code: str | None = None,
    **payload: Any,
) -> Event:
    event = Event(type=type_, applicant=applicant, application_code=application_code, payload=payload)
    session.add(event)
    return event


def stream_fields(event: Event) -> dict[FieldT, EncodableT]:
    return {
        "id": str(event.id),
        "type": event.type,
        "applicant": event.applicant or "",
        "application_code": event.application_code or "",
        "payload": json.dumps(event.payload, ensure_ascii=False),
        "created_at": event.created_at.isoformat(),
    }


async def list_after(session: AsyncSession, after: int, limit: int) -> list[Event]:
    rows = await session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(limit))
    return list(rows)


async def get_cursor(session: AsyncSession, consumer: str) -> int:
    cursor = await session.get(EventCursor, consumer)
    return cursor.last_id if cursor else 0


async def set_cursor(session: AsyncSession, consumer: str, last_id: int) -> int:
    cursor = await session.get(EventCursor, consumer)
    if cursor is None:
        session.add(EventCursor(consumer=consumer, last_id=last_id))
    else:
        # A cursor never moves backwards: two notifier copies may report out of order.
        cursor.last_id = max(cursor.last_id, last_id)
        last_id = cursor.last_id
    await session.commit()
    return last_id


async def publish_pending(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, stream: str, batch: int = 200
) -> int:
    """Publish unpublished events in id order; returns how many were published."""
    async with sessionmaker() as session:
        await begin_write(session)
        pending = list(
            await session.scalars(
                select(Event).where(Event.published_at.is_(None)).order_by(Event.id).limit(batch)
            )
        )
        if not pending:
            return 0
        for event in pending:
            entry_id = f"{event.id}-0"
            try:
                await redis.xadd(stream, stream_fields(event), id=entry_id)
            except ResponseError as exc:
                if "equal or smaller" not in str(exc):
                    raise
                # Usually already in the stream (an earlier relay died before marking it). If that entry is
                # missing, the stream outlived this database (a fresh SQLite file, say): still deliver it.
                if not await redis.xrange(stream, entry_id, entry_id):
                    log.warning("stream %s is ahead of the event log; appending event %s", stream, event.id)
                    await redis.xadd(stream, stream_fields(event))
        await session.execute(
            update(Event).where(Event.id.in_([e.id for e in pending])).values(published_at=utcnow())
        )
        await session.commit()
        return len(pending)


class Relay:
    """Background task that drains the outbox; `wake()` after a commit makes delivery immediate."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, stream: str, interval: float
    ) -> None:
        self._sessionmaker = sessionmaker
        self._redis = redis
        self._stream = stream
        self._interval = interval
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                while await publish_pending(self._sessionmaker, self._redis, self._stream):
                    pass
            except (RedisError, OSError) as exc:
                # Redis may be down; the rows stay unpublished and go out when it is back.
                log.warning("event relay: Redis unavailable (%s); will retry", exc)
            except Exception:
                log.exception("event relay failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._interval)
