"""The command-line entry points: publishing the menu and the WeChat client script."""

import asyncio
import os
import sys
from pathlib import Path

from bot.settings import DEMO_AES_KEY
from tests.bot.conftest import APPID, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _env(standins, redis_url, **extra):
    return {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": DEMO_AES_KEY,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": "test-secret",
        "WECHAT_API_BASE": standins.wechat_url,
        "REDIS_URL": redis_url,
        "RASA_URL": standins.rasa_url,
        "BACKEND_URL": standins.backend_url,
        **extra,
    }


async def _run(*args, env):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, output.decode()


async def test_publish_menu(standins, redis_url):
    code, output = await _run("-m", "bot", "publish-menu", env=_env(standins, redis_url))
    assert code == 0, output
    [call] = standins.wechat.sent("/cgi-bin/menu/create")
    names = [b["name"] for b in call.body["button"]]
    assert names == ["政策咨询", "办证服务", "人工服务"]
    assert [b["name"] for b in call.body["button"][1]["sub_button"]] == ["我要办证", "办理进度", "我的证照"]


async def test_wechat_client_shows_the_passive_reply_and_later_messages(
    aiohttp_server, settings, standins, redis_url
):
    from bot.app import create_app

    server = await aiohttp_server(create_app(settings))
    gateway = str(server.make_url("")).rstrip("/")
    env = _env(standins, redis_url)
    code, output = await _run(
        "-m", "bot.wechat_client", "我要开饭店", "--gateway", gateway, "--wait", "0.5", env=env
    )
    assert code == 0, output
    assert "[被动回复" in output and "回复 1 饭店" in output

    code, output = await _run(
        "-m", "bot.wechat_client", "我的证照", "--gateway", gateway, "--wait", "2", env=env
    )
    assert "这是您的行业综合许可证" in output
    assert "[客服消息 image]" in output
