"""`python -m bot [gateway|notifier|publish-menu|wechat-standin|rasa-standin]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.app import create_app
from bot.components import open_components
from bot.notifier import Notifier
from bot.settings import GatewaySettings
from bot.standin import create_rasa_standin, create_wechat_standin
from bot.wechat.api import WeChatApiError
from bot.wechat.custom_menu import menu_definition


async def run_notifier(settings: GatewaySettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_components(settings) as parts:
        await Notifier.from_components(parts).run(stop)


async def publish_menu(settings: GatewaySettings) -> int:
    async with open_components(settings) as parts:
        if parts.wechat is None:
            print("WECHAT_APPID is not set")
            return 2
        try:
            await parts.wechat.api.create_menu(menu_definition())
        except WeChatApiError as exc:
            print(f"menu not published: {exc}")
            return 1
    print("menu published")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument(
        "command",
        nargs="?",
        default="gateway",
        choices=["gateway", "notifier", "publish-menu", "wechat-standin", "rasa-standin"],
    )
    parser.add_argument("--host", help="listen address (gateway and stand-ins)")
    parser.add_argument("--port", type=int, help="listen port (stand-ins: 8010 WeChat, 5005 Rasa)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = GatewaySettings()
    host = args.host or settings.gateway_host
    match args.command:
        case "gateway":
            web.run_app(create_app(settings), host=host, port=args.port or settings.gateway_port)
        case "notifier":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(run_notifier(settings))
        case "publish-menu":
            return asyncio.run(publish_menu(settings))
        case "wechat-standin":
            web.run_app(create_wechat_standin(), host=host, port=args.port or 8010)
        case "rasa-standin":
            web.run_app(create_rasa_standin(), host=host, port=args.port or 5005)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
