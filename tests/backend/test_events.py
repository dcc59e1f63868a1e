"""The outbox: events survive Redis being down or restarted, publish once, and replay from the database."""

import asyncio
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from backend.app import create_app
from backend.events import publish_pending
from backend.keys import SESSIONMAKER
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import INFO, restaurant_package

SERVICE = {"X-Service-Key": SERVICE_KEY}


async def make_draft(api: Api, applicant: str) -> str:
    package = await restaurant_package(api)
    created = await api.call(
        "POST",
        "/applications",
        applicant=applicant,
        expect=201,
        json={"package_id": package["id"], "answers": {}, "applicant": INFO},
    )
    return str(created["code"])


async def stream_ids(redis: aioredis.Redis, stream: str, expected: int) -> list[int]:
    for _ in range(100):
        entries = await redis.xrange(stream)
        if len(entries) >= expected:
            break
        await asyncio.sleep(0.05)
    return [int(fields["id"]) for _, fields in entries]


async def test_events_wait_for_redis_and_publish_once(aiohttp_client: Any, settings: Settings) -> None:
    # Nothing listens on port 1: the backend keeps working and the events wait in the outbox.
    offline = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(offline))
    api = Api(client)
    codes = [await make_draft(api, f"web:user-{i}") for i in range(3)]
    events = (await api.call("GET", "/events", headers=SERVICE))["events"]
    assert [e["application_code"] for e in events] == codes

    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        sessionmaker = client.app[SESSIONMAKER]
        assert await publish_pending(sessionmaker, redis, settings.events_stream) == 3
        assert await publish_pending(sessionmaker, redis, settings.events_stream) == 0
        assert await stream_ids(redis, settings.events_stream, 3) == [e["id"] for e in events]
    finally:
        await redis.aclose()


async def test_replay_after_redis_restart(api: Api, settings: Settings) -> None:
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        await make_draft(api, "web:before-restart")
        assert len(await stream_ids(redis, settings.events_stream, 1)) == 1
        await redis.delete(settings.events_stream)  # what a Redis restart without persistence does
        await make_draft(api, "web:after-restart")
        after = await stream_ids(redis, settings.events_stream, 1)
        assert len(after) == 1

        # A consumer that had processed nothing durable replays everything from the database.
        cursor = await api.call("GET", "/events/cursors/notifier", headers=SERVICE)
        assert cursor == {"consumer": "notifier", "last_id": 0}
        replay = (await api.call("GET", f"/events?after={cursor['last_id']}", headers=SERVICE))["events"]
        assert [e["applicant"] for e in replay] == ["web:before-restart", "web:after-restart"]
        assert replay[-1]["id"] == after[-1]
        moved = await api.call(
            "PUT", "/events/cursors/notifier", headers=SERVICE, json={"last_id": after[-1]}
        )
        assert moved["last_id"] == after[-1]
        back = await api.call("PUT", "/events/cursors/notifier", headers=SERVICE, json={"last_id": 1})
        assert back["last_id"] == after[-1], "a cursor never moves backwards"
        assert (await api.call("GET", f"/events?after={after[-1]}", headers=SERVICE))["events"] == []
        await api.call("GET", "/events", expect=401)
        await api.call("GET", "/events?after=-1", headers=SERVICE, expect=422)
    finally:
        await redis.aclose()


async def test_a_stream_older_than_the_database_still_gets_new_events(api: Api, settings: Settings) -> None:
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        # A stream left behind by an earlier database whose event ids ran further than ours.
        await redis.xadd(settings.events_stream, {"id": "999", "type": "old"}, id="999-0")
        await make_draft(api, "web:fresh-database")
        for _ in range(100):
            entries = await redis.xrange(settings.events_stream)
            if len(entries) == 2:
                break
            await asyncio.sleep(0.05)
        assert [fields["type"] for _, fields in entries] == ["old", "application.created"]
    finally:
        await redis.aclose()
