"""Gateway fixtures: real Redis, real wechatpy crypto, local stand-ins for WeChat, Rasa and the backend."""

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.messages import UserRef
from bot.sessions import SessionTokens
from bot.settings import DEMO_AES_KEY, GatewaySettings
from bot.standin import (
    BackendStandinState,
    RasaStandinState,
    WeChatStandinState,
    create_backend_standin,
    create_rasa_standin,
    create_wechat_standin,
)
from bot.wechat.simulator import WeChatSimulator

# A DB of its own: the backend's tests flush theirs while these run.
REDIS_URL = os.environ.get("TEST_BOT_REDIS_URL", "redis://127.0.0.1:6379/14")
TOKEN = "test-callback-token"
APPID = "wx0123456789abcdef"
SERVICE_KEY = "test-service-key"
SESSION_SECRET = "test-session-secret"


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except OSError as exc:
        pytest.fail(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def redis(redis_url) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@dataclass
class StandIns:
    wechat: WeChatStandinState
    rasa: RasaStandinState
    backend: BackendStandinState
    wechat_url: str
    rasa_url: str
    backend_url: str


@pytest.fixture
async def standins(aiohttp_server) -> StandIns:
    wechat, rasa, backend = WeChatStandinState(), RasaStandinState(), BackendStandinState(SERVICE_KEY)
    wechat_server: TestServer = await aiohttp_server(create_wechat_standin(wechat))
    rasa_server: TestServer = await aiohttp_server(create_rasa_standin(rasa))
    backend_server: TestServer = await aiohttp_server(create_backend_standin(backend))
    return StandIns(
        wechat,
        rasa,
        backend,
        str(wechat_server.make_url("")).rstrip("/"),
        str(rasa_server.make_url("")).rstrip("/"),
        str(backend_server.make_url("")).rstrip("/"),
    )


def make_settings(standins: StandIns, redis_url: str, **overrides) -> GatewaySettings:
    values = {
        "wechat_token": TOKEN,
        "wechat_aes_key": DEMO_AES_KEY,
        "wechat_appid": APPID,
        "wechat_secret": "test-secret",
        "wechat_api_base": standins.wechat_url,
        "wechat_reply_budget": 1.0,
        "redis_url": redis_url,
        "rasa_url": standins.rasa_url,
        "backend_url": standins.backend_url,
        "service_key": SERVICE_KEY,
        "session_secret": SESSION_SECRET,
        "miniprogram_appid": "wxmini0000000001",
        "miniprogram_secret": "mini-secret",
        "notifier_retry_base": 0.05,
        "notifier_max_attempts": 3,
    }
    values.update(overrides)
    return GatewaySettings(_env_file=None, **values)


def web_auth(user_id: str, channel: str = "web") -> dict[str, str]:
    """The header a chat page sends once it has a session for `user_id` (`POST /api/chat/session`)."""
    token = SessionTokens(SESSION_SECRET, ttl=3600).issue(UserRef(channel, user_id))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(standins, redis_url) -> GatewaySettings:
    return make_settings(standins, redis_url)


@pytest.fixture
async def gateway(aiohttp_client, settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def simulator() -> WeChatSimulator:
    return WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)


@pytest.fixture
async def notifier(settings):
    """A notifier process of its own (own connections), sharing Redis and the stand-ins."""
    from bot.components import open_components
    from bot.notifier import Notifier

    async with open_components(settings) as parts:
        running = Notifier.from_components(parts)
        async with running.running():
            yield running


async def publish(redis, standins: StandIns, type_: str, applicant: str, payload: dict | None = None, **kw):
    """What the backend's outbox relay does: record the event and add it to the stream."""
    import json

    event = standins.backend.add_event(type_, applicant, payload or {}, **kw)
    await redis.xadd("events", {"event": json.dumps(event, ensure_ascii=False)})
    return event
