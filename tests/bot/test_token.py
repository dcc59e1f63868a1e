"""The access token is fetched once for the whole deployment, and refreshed once after a rejection."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.components import open_components
from bot.settings import DEMO_AES_KEY
from bot.wechat.simulator import WeChatSimulator
from tests.bot.conftest import APPID, TOKEN, make_settings
from tests.bot.wechat_helpers import custom_texts, eventually, text

ROOT = Path(__file__).resolve().parents[2]


async def test_two_gateway_copies_share_one_token_fetch(standins, redis_url):
    settings = make_settings(standins, redis_url)
    async with open_components(settings) as one, open_components(settings) as two:
        sends = [copy.wechat.api.send_text(f"oUser{i}", "你好") for i in range(20) for copy in (one, two)]
        await asyncio.gather(*sends)
    assert standins.wechat.token_fetches[APPID] == 1
    assert len(standins.wechat.sent("/cgi-bin/message/custom/send")) == 40


async def test_rejected_token_triggers_one_refresh_not_a_stampede(standins, redis_url):
    settings = make_settings(standins, redis_url)
    async with open_components(settings) as one, open_components(settings) as two:
        await one.wechat.api.send_text("oWarm", "预热")
        standins.wechat.expire_tokens()  # WeChat now answers 40001 to the stored token
        await asyncio.gather(
            *(copy.wechat.api.send_text(f"o{i}", "你好") for i in range(10) for copy in (one, two))
        )
    # every send succeeded (a failure raises), and the whole burst cost one fetch
    assert standins.wechat.token_fetches[APPID] == 2
    sends = standins.wechat.sent("/cgi-bin/message/custom/send")
    last_try = {c.body["touser"]: c.params["access_token"] for c in sends}
    assert len(set(last_try.values()) - {last_try["oWarm"]}) == 1


async def test_token_is_refetched_after_it_expires_in_redis(standins, redis_url, redis):
    settings = make_settings(standins, redis_url)
    async with open_components(settings) as parts:
        await parts.wechat.api.send_text("oA", "一")
        await redis.delete(f"gw:wx-token:{APPID}")  # what the TTL does ~7200 s after the fetch
        await parts.wechat.api.send_text("oA", "二")
    assert standins.wechat.token_fetches[APPID] == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
async def test_two_gateway_processes_share_one_token_fetch(standins, redis_url):
    """Real processes: slow turns on both copies send customer-service messages with one token."""
    standins.rasa.slow_seconds = 1.2
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": DEMO_AES_KEY,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": "test-secret",
        "WECHAT_API_BASE": standins.wechat_url,
        "WECHAT_REPLY_BUDGET": "0.5",
        "REDIS_URL": redis_url,
        "RASA_URL": standins.rasa_url,
        "BACKEND_URL": standins.backend_url,
    }
    ports = [_free_port(), _free_port()]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    simulator = WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)
    try:
        async with aiohttp.ClientSession() as http:
            for port in ports:
                await _wait_healthy(http, port)

            async def say(port: int, openid: str) -> None:
                request = simulator.request(text(openid, "慢"))
                url = f"http://127.0.0.1:{port}/wechat"
                async with http.post(url, params=request.params, data=request.body) as resp:
                    assert resp.status == 200
                    assert await resp.text() == "success"

            users = [(port, f"oProc{port}-{i}") for port in ports for i in range(5)]
            await asyncio.gather(*(say(port, openid) for port, openid in users))
            await eventually(
                lambda: all(custom_texts(standins.wechat, openid) for _, openid in users), within=15
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 10)
    assert standins.wechat.token_fetches[APPID] == 1


async def _wait_healthy(http: aiohttp.ClientSession, port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"gateway on {port} did not start")


async def test_a_rejected_token_is_refreshed_on_the_wechatpy_path_too(standins, redis_url):
    """Media uploads go through wechatpy in threads, sends through aiohttp: both retry once on 40001."""
    from bot.standin import card_png

    settings = make_settings(standins, redis_url)
    async with open_components(settings) as parts:
        await parts.wechat.api.send_text("oWarm", "预热")
        standins.wechat.expire_tokens()
        media_id = await parts.wechat.api.upload_image(
            card_png(), filename="card.png", content_type="image/png"
        )
    assert media_id in standins.wechat.media
    assert standins.wechat.token_fetches[APPID] == 2
