"""Pushes backend events to people: the notifier (`python -m bot notifier`, or inside the gateway).

Input: the backend's Redis Stream `events`, read through a consumer group. A stream entry carries the
event as JSON in its `event` field (the same object `GET /api/v1/events` returns); flat fields
(`id`, `type`, `applicant`, `application_code`, `payload` as JSON, `created_at`) are accepted too.

Delivery guarantees:

* ack after delivery; a failed delivery is retried with exponential backoff (a Redis sorted set of due
  times, the entry stays pending), and after `NOTIFIER_MAX_ATTEMPTS` it goes to the `events:dead` stream;
* idempotent per event id (a claim key moves `processing` → `done`), so replays, restarts and several
  notifier copies never send one notice twice while Redis keeps its data;
* durable position: the id of the last event before which everything is acknowledged is saved in the
  backend (`PUT /api/v1/events/cursors/{consumer}`). On start, and whenever Redis comes back without our
  group (a restart that lost data), the notifier re-creates the group and replays what the backend has after
  that cursor (`GET /api/v1/events?after=`) before reading the stream again.

Channel choice (WeChat's rules): an Official Account user gets customer-service messages inside the
48-hour window after their last message and a template message outside it (or when WeChat answers
45015 / 45047); a mini-program user gets a subscribe message when a consent is left (one consent, one
send) and the notice is also queued for the mini-program's chat; a web user's notice waits for the next
poll. Template ids and keyword mappings come from `WECHAT_TEMPLATES` / `MINIPROGRAM_TEMPLATES` (JSON, keyed
by event type, with `default` as the fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.backend_client import BackendClient, BackendError, BackendRejected, Event
from bot.components import Components, WeChatChannel
from bot.contacts import Contacts
from bot.handoff import HandoffModes
from bot.messages import UserRef
from bot.notices import NOTICES, Notice, clip
from bot.settings import GatewaySettings, TemplateSpec
from bot.store import StreamEntry, entries, text, text_map
from bot.webchat.notices import NoticeQueue
from bot.wechat.api import (
    OUT_OF_SERVICE_WINDOW,
    SUBSCRIPTION_USED_UP,
    TOO_MANY_CS_MESSAGES,
    WeChatApi,
    WeChatApiError,
)

log = logging.getLogger(__name__)

DONE_TTL = 30 * 24 * 3600
CLAIM_TTL = 300
ORPHAN_IDLE_MS = 5 * 60 * 1000
REPLAY_PAGE = 200  # entries another (dead) consumer has held this long are taken over


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Retrying cannot help (malformed event, unknown applicant): dead-letter at once."""


class Notifier:
    def __init__(
        self,
        *,
        settings: GatewaySettings,
        redis: Redis,
        backend: BackendClient,
        contacts: Contacts,
        modes: HandoffModes,
        notices: NoticeQueue,
        wechat: WeChatChannel | None,
        miniprogram: WeChatApi | None,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._backend = backend
        self._contacts = contacts
        self._modes = modes
        self._notices = notices
        self._wechat = wechat
        self._miniprogram = miniprogram
        self._stream = settings.notifier_stream
        self._group = settings.notifier_group
        self._consumer = settings.notifier_consumer
        self._dead = f"{settings.notifier_stream}:dead"
        self._retry_key = f"gw:notifier:{self._group}:retry"
        self._attempts_key = f"gw:notifier:{self._group}:attempts"
        self._saved_cursor: str | None = None
        self._replay_from: str | None = None  # a replay from the backend is not finished
        self._replay_at = 0.0
        self._last_cursor_save = 0.0
        self.delivered = 0

    @classmethod
    def from_components(cls, parts: Components) -> Notifier:
        return cls(
            settings=parts.settings,
            redis=parts.redis,
            backend=parts.backend,
            contacts=parts.contacts,
            modes=parts.modes,
            notices=parts.notices,
            wechat=parts.wechat,
            miniprogram=parts.miniprogram,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.Task[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="notifier")
        try:
            yield task
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                log.warning("notifier did not stop in time")

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        needs_resume = True
        while not stop.is_set():
            try:
                if needs_resume:
                    await self._resume()
                    needs_resume = False
                await self._step()
                backoff = 0.5
            except ResponseError as exc:
                needs_resume = True
                if "NOGROUP" in str(exc):
                    log.warning("consumer group %s is gone (Redis restarted?); resuming", self._group)
                    continue
                log.exception("Redis refused a command; retrying in %.1f s", backoff)
                backoff = await self._pause(stop, backoff)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("Redis unavailable (%s); retrying in %.1f s", exc, backoff)
                needs_resume = True
                backoff = await self._pause(stop, backoff)
            except Exception:
                # The loop must outlive any single bad event or bug; the entry stays pending.
                log.exception("notifier step failed; retrying in %.1f s", backoff)
                needs_resume = True
                backoff = await self._pause(stop, backoff)
        with contextlib.suppress(Exception):
            await self._save_cursor(force=True)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> float:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        return min(seconds * 2, 10.0)

    async def _resume(self) -> None:
        """Make sure the group exists, then replay from the backend what the stream may have lost."""
        cursor = await self._load_cursor()
        try:
            # With a known cursor the backend replay covers the past; without one, take the whole stream.
            await self._redis.xgroup_create(
                self._stream, self._group, id="$" if cursor else "0", mkstream=True
            )
            log.info("created consumer group %s on %s", self._group, self._stream)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        await self._reschedule_pending()
        if cursor is not None:
            self._replay_from, self._replay_at = cursor, 0.0
            await self._replay()

    async def _step(self) -> None:
        if self._replay_from is not None and time.time() >= self._replay_at:
            await self._replay()
        await self._retry_due()
        answer: Any = await self._redis.xreadgroup(
            self._group,
            self._consumer,
            {self._stream: ">"},
            count=self._settings.notifier_batch,
            block=500,
        )
        for _stream, raw in answer or []:
            await self._handle_batch(entries(raw))
        await self._save_cursor()

    async def _handle_batch(self, batch: list[StreamEntry]) -> None:
        # One person's notices stay in order; different people are served concurrently.
        by_person: dict[str, list[StreamEntry]] = defaultdict(list)
        for entry_id, fields in batch:
            by_person[fields.get("applicant") or _peek_applicant(fields)].append((entry_id, fields))

        async def serve(items: list[StreamEntry]) -> None:
            for entry_id, fields in items:
                await self._handle_entry(entry_id, fields)

        await asyncio.gather(*(serve(items) for items in by_person.values()))

    async def _handle_entry(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            event = parse_entry(fields)
            await self.process(event)
        except TemporaryFailure as exc:
            await self._schedule_retry(entry_id, fields, str(exc))
            return
        except PermanentFailure as exc:
            await self._dead_letter(entry_id, fields, str(exc), attempts=1)
            return
        await self._redis.xack(self._stream, self._group, entry_id)
        await self._redis.zrem(self._retry_key, entry_id)
        await self._redis.hdel(self._attempts_key, entry_id)

    async def _schedule_retry(self, entry_id: str, fields: dict[str, str], error: str) -> None:
        attempts = int(await self._redis.hincrby(self._attempts_key, entry_id, 1))
        if attempts >= self._settings.notifier_max_attempts:
            await self._dead_letter(entry_id, fields, error, attempts=attempts)
            return
        delay = self._settings.notifier_retry_base * 2 ** (attempts - 1)
        log.info("entry %s failed (%s); attempt %d in %.1f s", entry_id, error, attempts + 1, delay)
        await self._redis.zadd(self._retry_key, {entry_id: time.time() + delay})

    async def _dead_letter(self, entry_id: str, fields: dict[str, str], error: str, *, attempts: int) -> None:
        log.error("entry %s dead-lettered after %d attempt(s): %s", entry_id, attempts, error)
        record: dict[Any, Any] = {**fields, "stream_id": entry_id, "error": error[:500]}
        await self._redis.xadd(self._dead, {**record, "attempts": str(attempts)})
        await self._redis.xack(self._stream, self._group, entry_id)
        await self._redis.zrem(self._retry_key, entry_id)
        await self._redis.hdel(self._attempts_key, entry_id)

    async def _retry_due(self) -> None:
        raw_due: Any = await self._redis.zrangebyscore(self._retry_key, 0, time.time(), start=0, num=50)
        due = [str(text(entry_id)) for entry_id in raw_due]
        if not due:
            return
        claimed = entries(await self._redis.xclaim(self._stream, self._group, self._consumer, 0, list(due)))
        found = {entry_id for entry_id, fields in claimed if fields}
        gone = [entry_id for entry_id in due if entry_id not in found]
        if gone:  # trimmed from the stream or acked elsewhere: nothing left to retry
            await self._redis.zrem(self._retry_key, *gone)
        await self._handle_batch([(entry_id, fields) for entry_id, fields in claimed if fields])

    async def _reschedule_pending(self) -> None:
        """After a restart: our own unacked entries, and those a dead consumer left behind, are due now."""
        now = time.time()
        pending: Any = await self._redis.xpending_range(
            self._stream, self._group, min="-", max="+", count=1000, consumername=self._consumer
        )
        ids = [str(text(item["message_id"])) for item in pending]
        # with justid, redis-py returns just the claimed ids
        orphans: Any = await self._redis.xautoclaim(
            self._stream, self._group, self._consumer, ORPHAN_IDLE_MS, count=1000, justid=True
        )
        ids += [str(text(entry_id)) for entry_id in orphans]
        if ids:
            await self._redis.zadd(self._retry_key, dict.fromkeys(ids, now), nx=True)

    # ------------------------------------------------------------------ replay and cursor

    async def _load_cursor(self) -> str | None:
        try:
            cursor = await self._backend.get_cursor(self._consumer)
        except (BackendError, BackendRejected) as exc:
            log.warning("cannot read the event cursor (%s); relying on the stream alone", exc)
            return self._saved_cursor
        self._saved_cursor = cursor
        return cursor

    async def _replay(self) -> None:
        """Deliver what the backend has after `_replay_from`, in order.

        A temporary failure stops the replay where it is (the cursor stays before the event) and it
        resumes after a backoff; the stream cursor is not saved meanwhile, or it could jump past events
        that only the backend still has.
        """
        after = self._replay_from
        while after is not None:
            try:
                events = await self._backend.events_after(after, limit=REPLAY_PAGE)
            except BackendRejected as exc:  # no replay endpoint: the stream is all there is
                log.warning("cannot replay events after %s (%s); giving up the replay", after, exc)
                self._replay_from = None
                return
            except BackendError as exc:
                log.warning("cannot replay events after %s (%s); trying again later", after, exc)
                self._replay_at = time.time() + self._settings.notifier_retry_base
                return
            for event in events:
                if not await self._replay_one(event):
                    if after != self._replay_from:
                        await self._put_cursor(after)
                    self._replay_from = after
                    return
                after = event.id
            if events:
                await self._put_cursor(after)
            if len(events) < REPLAY_PAGE:
                after = None
        self._replay_from = None

    async def _replay_one(self, event: Event) -> bool:
        """True when the event is settled (delivered or dead-lettered); False to retry it later."""
        try:
            await self.process(event)
        except PermanentFailure as exc:
            await self._dead_letter_event(event, str(exc), attempts=1)
        except TemporaryFailure as exc:
            key = f"replay:{event.id}"
            attempts = int(await self._redis.hincrby(self._attempts_key, key, 1))
            if attempts < self._settings.notifier_max_attempts:
                delay = self._settings.notifier_retry_base * 2 ** (attempts - 1)
                log.info("replayed event %s failed (%s); retrying in %.1f s", event.id, exc, delay)
                self._replay_at = time.time() + delay
                return False
            await self._dead_letter_event(event, str(exc), attempts=attempts)
            await self._redis.hdel(self._attempts_key, key)
        return True

    async def _dead_letter_event(self, event: Event, error: str, *, attempts: int) -> None:
        log.error("event %s dead-lettered after %d attempt(s): %s", event.id, attempts, error)
        record = {"event": _dump(event), "error": error[:500], "attempts": str(attempts), "stream_id": ""}
        await self._redis.xadd(self._dead, record)  # type: ignore[arg-type]

    async def _save_cursor(self, *, force: bool = False) -> None:
        interval = self._settings.notifier_cursor_interval
        if self._replay_from is not None:
            return
        if not force and time.monotonic() - self._last_cursor_save < interval:
            return
        self._last_cursor_save = time.monotonic()
        cursor = await self._stream_cursor()
        if cursor is not None and cursor != self._saved_cursor:
            await self._put_cursor(cursor)

    async def _stream_cursor(self) -> str | None:
        """The event id of the last stream entry before which every entry is acknowledged."""
        summary: Any = await self._redis.xpending(self._stream, self._group)
        if summary and summary.get("pending"):
            bound = "(" + str(text(summary["min"]))
        else:
            groups: Any = await self._redis.xinfo_groups(self._stream)
            mine = [text_map(g) for g in groups if text(g.get("name")) == self._group]
            if not mine or mine[0].get("last-delivered-id") in (None, "0-0"):
                return None
            bound = mine[0]["last-delivered-id"]
        before = entries(await self._redis.xrevrange(self._stream, max=bound, min="-", count=1))
        if not before:
            return None
        try:
            return parse_entry(before[0][1]).id
        except PermanentFailure:
            return None

    async def _put_cursor(self, cursor: str) -> None:
        try:
            await self._backend.put_cursor(self._consumer, cursor)
            self._saved_cursor = cursor
        except (BackendError, BackendRejected) as exc:
            log.warning("cannot save the event cursor %s (%s)", cursor, exc)

    # ------------------------------------------------------------------ one event

    async def process(self, event: Event) -> None:
        """Deliver one event's notice exactly once (per Redis lifetime), whichever copy gets it."""
        key = f"gw:notifier:event:{event.id}"
        if not await self._redis.set(key, "processing", nx=True, ex=CLAIM_TTL):
            if text(await self._redis.get(key)) == "done":
                return
            raise TemporaryFailure(f"event {event.id} is being delivered elsewhere")
        try:
            await self._deliver(event)
        except BaseException:
            await self._redis.delete(key)
            raise
        await self._redis.set(key, "done", ex=DONE_TTL)
        self.delivered += 1

    async def _deliver(self, event: Event) -> None:
        build = NOTICES.get(event.type)
        if build is None:
            log.debug("no notice for %s", event.type)
            return
        try:
            user = UserRef.parse(event.applicant)
        except ValueError as exc:
            raise PermanentFailure(str(exc)) from None
        if event.type == "handoff.closed":
            handoff_id = event.payload.get("handoff_id") or event.payload.get("id")
            await self._modes.end(user, str(handoff_id) if handoff_id else None)
        notice = build(event)
        if not notice.messages:  # e.g. the person closed a handoff we cannot ask them to rate
            return
        match user.channel:
            case "web":
                await self._notices.put(user, notice.messages)
            case "miniprogram":
                await self._notices.put(user, notice.messages)
                await self._subscribe_message(user, event, notice)
            case "wechat":
                await self._official_account(user, event, notice)

    async def _official_account(self, user: UserRef, event: Event, notice: Notice) -> None:
        if self._wechat is None:
            raise TemporaryFailure("WeChat is not configured")
        if not await self._contacts.following(user):
            log.info("%s unfollowed; %s not delivered", user.applicant, event.type)
            return
        if await self._contacts.within_service_window(user):
            parts = await self._wechat.outbound.prepare(user, notice.messages, replace_menu=False)
            try:
                await self._wechat.outbound.send(user.user_id, parts)
                return
            except WeChatApiError as exc:
                if exc.errcode not in (OUT_OF_SERVICE_WINDOW, TOO_MANY_CS_MESSAGES):
                    raise TemporaryFailure(str(exc)) from exc
                log.info("customer-service message refused (%s); using a template", exc.errcode)
        spec = _template_for(self._settings.wechat_templates, event.type)
        if spec is None:
            log.warning("no template configured for %s; %s not reachable now", event.type, user.applicant)
            return
        try:
            msgid = await self._wechat.api.send_template(
                user.user_id,
                spec.template_id,
                _template_data(spec, notice),
                url=spec.page or self._settings.notice_link_url or None,
            )
        except WeChatApiError as exc:
            raise TemporaryFailure(str(exc)) from exc
        if msgid:
            await self._contacts.record_template_sent(msgid, applicant=user.applicant, event_id=event.id)

    async def _subscribe_message(self, user: UserRef, event: Event, notice: Notice) -> None:
        spec = _template_for(self._settings.miniprogram_templates, event.type)
        if spec is None or self._miniprogram is None:
            return
        if not await self._contacts.take_consent(user, spec.template_id):
            return
        try:
            await self._miniprogram.send_subscribe_message(
                user.user_id,
                spec.template_id,
                _template_data(spec, notice),
                page=spec.page,
                state=self._settings.miniprogram_state,
            )
        except WeChatApiError as exc:
            if exc.errcode == SUBSCRIPTION_USED_UP:
                await self._contacts.clear_consents(user, spec.template_id)
                return
            await self._contacts.add_consents(user, spec.template_id)  # not used: give it back
            raise TemporaryFailure(str(exc)) from exc


def _template_for(templates: dict[str, TemplateSpec], event_type: str) -> TemplateSpec | None:
    return templates.get(event_type) or templates.get("default")


def _template_data(spec: TemplateSpec, notice: Notice) -> dict[str, str]:
    return {keyword: clip(notice.fields.get(source, "")) or "-" for keyword, source in spec.data.items()}


def _peek_applicant(fields: dict[str, str]) -> str:
    try:
        return json.loads(fields.get("event", "{}")).get("applicant", "")  # type: ignore[no-any-return]
    except (ValueError, AttributeError):
        return ""


def _dump(event: Event) -> str:
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "applicant": event.applicant,
            "application_code": event.application_code,
            "payload": event.payload,
            "created_at": event.created_at,
        },
        ensure_ascii=False,
    )


def parse_entry(fields: dict[str, str]) -> Event:
    try:
        for name in ("event", "data", "json"):
            if name in fields:
                return Event.from_json(json.loads(fields[name]))
        data: dict[str, Any] = dict(fields)
        if isinstance(data.get("payload"), str):
            data["payload"] = json.loads(data["payload"])
        return Event.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentFailure(f"unreadable event entry: {exc}") from None
