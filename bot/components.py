"""The gateway's object graph, opened and closed in one place for the web app and the notifier."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
from redis.asyncio import Redis

from bot.backend_client import BackendClient
from bot.background import BackgroundTasks
from bot.contacts import Contacts
from bot.conversation import Conversation
from bot.dedupe import Deduper
from bot.dialogue import RasaDialogue
from bot.handoff import HandoffModes
from bot.proxies import TrustedProxies
from bot.ratelimit import RateLimiter
from bot.sessions import SessionTokens
from bot.settings import GatewaySettings
from bot.store import open_redis
from bot.webchat.notices import NoticeQueue
from bot.wechat.api import WeChatApi
from bot.wechat.callback import CallbackService, Timing
from bot.wechat.envelope import CallbackCrypto
from bot.wechat.media import MediaCache
from bot.wechat.options import OptionMenus
from bot.wechat.outbound import WeChatOutbound
from bot.wechat.token import AccessTokenStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WeChatChannel:
    api: WeChatApi
    outbound: WeChatOutbound
    options: OptionMenus
    callback: CallbackService | None  # None without WECHAT_TOKEN: API use only (notifier, menu)
    crypto: CallbackCrypto | None


@dataclass(slots=True)
class Components:
    settings: GatewaySettings
    redis: Redis
    http: aiohttp.ClientSession
    tasks: BackgroundTasks
    backend: BackendClient
    contacts: Contacts
    modes: HandoffModes
    conversation: Conversation
    notices: NoticeQueue
    sessions: SessionTokens
    limiter: RateLimiter
    proxies: TrustedProxies
    web_dedupe: Deduper  # web / mini-program messages by the id the page gives them
    wechat: WeChatChannel | None
    miniprogram: WeChatApi | None


@contextlib.asynccontextmanager
async def open_components(settings: GatewaySettings) -> AsyncIterator[Components]:
    redis = open_redis(settings.redis_url)
    http = aiohttp.ClientSession()
    # wechatpy blocks; bound its threads so a slow WeChat cannot exhaust the process.
    executor = ThreadPoolExecutor(max_workers=settings.wechat_api_threads, thread_name_prefix="wechat")
    tasks = BackgroundTasks()
    try:
        yield _build(settings, redis, http, executor, tasks)
    finally:
        await tasks.close()
        await http.close()
        executor.shutdown(wait=False, cancel_futures=True)
        await redis.aclose()


def _build(
    settings: GatewaySettings,
    redis: Redis,
    http: aiohttp.ClientSession,
    executor: ThreadPoolExecutor,
    tasks: BackgroundTasks,
) -> Components:
    backend = BackendClient(base_url=settings.backend_url, service_key=settings.service_key, http=http)
    contacts = Contacts(redis)
    modes = HandoffModes(redis)
    conversation = Conversation(
        dialogue=RasaDialogue(url=settings.rasa_url, http=http, timeout=settings.rasa_timeout),
        backend=backend,
        modes=modes,
        contacts=contacts,
        wechat_kf_handoff=settings.wechat_handoff == "wechat_kf",
    )
    wechat = None
    if settings.wechat_appid:
        wechat = _build_wechat(settings, redis, http, executor, tasks, conversation, contacts, modes)
    miniprogram = None
    if settings.miniprogram_appid:
        miniprogram = _api(
            settings, redis, http, executor, settings.miniprogram_appid, settings.miniprogram_secret
        )
    return Components(
        settings=settings,
        redis=redis,
        http=http,
        tasks=tasks,
        backend=backend,
        contacts=contacts,
        modes=modes,
        conversation=conversation,
        notices=NoticeQueue(redis),
        sessions=SessionTokens(settings.session_secret, ttl=settings.session_ttl),
        limiter=RateLimiter(redis),
        proxies=TrustedProxies.parse(settings.trusted_proxies),
        # A copy waits for the first delivery's answer for as long as the assistant may take.
        web_dedupe=Deduper(redis, prefix="gw:dedupe:web:", processing_ttl=int(settings.rasa_timeout) + 30),
        wechat=wechat,
        miniprogram=miniprogram,
    )


def _api(
    settings: GatewaySettings,
    redis: Redis,
    http: aiohttp.ClientSession,
    executor: ThreadPoolExecutor,
    appid: str,
    secret: str,
) -> WeChatApi:
    tokens = AccessTokenStore(redis, http, api_base=settings.wechat_api_base, appid=appid, secret=secret)
    return WeChatApi(
        appid=appid,
        secret=secret,
        api_base=settings.wechat_api_base,
        tokens=tokens,
        executor=executor,
        http=http,
        timeout=settings.wechat_api_timeout,
    )


def _build_wechat(
    settings: GatewaySettings,
    redis: Redis,
    http: aiohttp.ClientSession,
    executor: ThreadPoolExecutor,
    tasks: BackgroundTasks,
    conversation: Conversation,
    contacts: Contacts,
    modes: HandoffModes,
) -> WeChatChannel:
    api = _api(settings, redis, http, executor, settings.wechat_appid, settings.wechat_secret)
    options = OptionMenus(redis)
    media = MediaCache(redis, http, api, base_url=settings.backend_url)
    outbound = WeChatOutbound(api, media, options)
    callback = crypto = None
    if settings.wechat_token:
        crypto = CallbackCrypto(
            token=settings.wechat_token,
            aes_key=settings.wechat_aes_key,
            appid=settings.wechat_appid,
            max_skew=settings.wechat_max_clock_skew,
        )
        callback = CallbackService(
            conversation=conversation,
            contacts=contacts,
            modes=modes,
            options=options,
            api=api,
            outbound=outbound,
            deduper=Deduper(redis, prefix=f"gw:dedupe:{settings.wechat_appid}:"),
            tasks=tasks,
            timing=Timing(budget=settings.wechat_reply_budget),
        )
    return WeChatChannel(api=api, outbound=outbound, options=options, callback=callback, crypto=crypto)
