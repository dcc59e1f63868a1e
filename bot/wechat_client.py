"""Send one message to the gateway's `/wechat` exactly as WeChat would, and show what comes back.

    python -m bot.wechat_client "我要开饭店"
    python -m bot.wechat_client --image licence.jpg
    python -m bot.wechat_client --event subscribe
    python -m bot.wechat_client --event click:ZL_PROGRESS

Uses WECHAT_TOKEN / WECHAT_AES_KEY / WECHAT_APPID from the environment (the gateway's settings). Replies
that come later as customer-service messages are read from the WeChat stand-in's call log
(`WECHAT_API_BASE`), so the whole path can be watched on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

from bot.settings import GatewaySettings
from bot.wechat.simulator import WeChatSimulator, describe, message_xml


def _xml(args: argparse.Namespace, media_id: str | None) -> str:
    if media_id:
        return message_xml(args.openid, "image", MediaId=media_id, PicUrl="http://example.invalid/p.jpg")
    if args.event:
        event, _, key = args.event.partition(":")
        fields = {"Event": event.upper() if event in ("click", "scan") else event}
        if key:
            fields["EventKey"] = f"qrscene_{key}" if event == "subscribe" else key
        return message_xml(args.openid, "event", **fields)
    return message_xml(args.openid, "text", Content=args.text)


async def _followups(
    http: aiohttp.ClientSession, api_base: str, since: int, openid: str, wait: float
) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        async with http.get(f"{api_base}/_standin/calls", params={"since": str(since)}) as resp:
            data = await resp.json()
        since = data["next"]
        for call in data["calls"]:
            body = call.get("body") or {}
            if not isinstance(body, dict) or body.get("touser") != openid:
                continue
            kind = body.get("msgtype")
            content = body.get("text", {}).get("content") if kind == "text" else json.dumps(body.get(kind))
            print(f"[客服消息 {kind}] {content}")
            deadline = max(deadline, time.monotonic() + 2)


async def run(args: argparse.Namespace) -> int:
    settings = GatewaySettings()
    if not settings.wechat_token:
        print("WECHAT_TOKEN is not set (use the same settings as the gateway)", file=sys.stderr)
        return 2
    simulator = WeChatSimulator(
        token=settings.wechat_token, aes_key=settings.wechat_aes_key, appid=settings.wechat_appid
    )
    api_base = settings.wechat_api_base.rstrip("/")
    standin = not api_base.startswith("https://api.weixin.qq.com")
    async with aiohttp.ClientSession() as http:
        since = 0
        if standin:
            async with http.get(f"{api_base}/_standin/calls") as resp:
                since = (await resp.json())["next"]
        media_id = None
        if args.image:
            photo = await asyncio.to_thread(Path(args.image).read_bytes)
            headers = {"Content-Type": "image/jpeg"}
            async with http.post(f"{api_base}/_standin/media", data=photo, headers=headers) as resp:
                media_id = (await resp.json())["media_id"]
        request = simulator.request(_xml(args, media_id), encrypt=not args.plain)
        started = time.monotonic()
        async with http.post(f"{args.gateway}/wechat", params=request.params, data=request.body) as resp:
            body = await resp.text()
            status = resp.status
        elapsed = time.monotonic() - started
        if status != 200:
            print(f"HTTP {status}: {body}")
            return 1
        print(f"[被动回复 {elapsed:.2f}s] {describe(simulator.read_reply(body))}")
        if standin:
            await _followups(http, api_base, since, args.openid, args.wait)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.wechat_client")
    parser.add_argument("text", nargs="?", default="你好")
    parser.add_argument("--openid", default="oDemoUser0001")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--image", help="send this photo as an image message")
    parser.add_argument("--event", help="subscribe[:scene] | unsubscribe | click:KEY | scan:scene")
    parser.add_argument("--plain", action="store_true", help="plaintext mode instead of safe (AES) mode")
    parser.add_argument("--wait", type=float, default=8.0, help="seconds to watch for later messages")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
