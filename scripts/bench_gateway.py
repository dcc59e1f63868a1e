"""Gateway benchmark: a WeChat turn in safe (AES) mode through `/wechat` vs. the same turn sent straight to
Rasa's REST endpoint, p50 / p95 at 1 and 20 concurrent users; then notifier sends per second.

Every server runs as its own process, as in production: the WeChat and Rasa stand-ins
(`python -m bot wechat-standin|rasa-standin`), the gateway (`python -m bot`) and the notifier
(`python -m bot notifier`); this process only generates load (and serves the backend stand-in's cursor
endpoint to the notifier).

    .venv/bin/python scripts/bench_gateway.py                 # stand-in Rasa
    .venv/bin/python scripts/bench_gateway.py --rasa-url http://127.0.0.1:5005   # a real `rasa run`

Uses Redis DB 12 by default and flushes it first (`--redis-url`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import DEMO_AES_KEY  # noqa: E402
from bot.standin import BackendStandinState, create_backend_standin  # noqa: E402
from bot.wechat.simulator import WeChatSimulator, message_xml  # noqa: E402

TOKEN, APPID = "bench-token", "wxbench000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def wait_up(http: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with http.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


async def load(concurrency: int, per_user: int, turn: Callable[[int, int], Awaitable[None]]) -> list[float]:
    samples: list[float] = []

    async def user(u: int) -> None:
        for i in range(per_user):
            started = time.perf_counter()
            await turn(u, i)
            samples.append(time.perf_counter() - started)

    await asyncio.gather(*(user(u) for u in range(concurrency)))
    return samples


async def bench_turns(http: aiohttp.ClientSession, gateway: str, rasa: str, turns: int) -> None:
    simulator = WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)
    msg_ids = iter(range(10**9))

    async def via_gateway(u: int, i: int) -> None:
        request = simulator.request(message_xml(f"oBench{u}", "text", Content="你好", msg_id=next(msg_ids)))
        async with http.post(f"{gateway}/wechat", params=request.params, data=request.body) as resp:
            body = await resp.text()
        reply = simulator.read_reply(body)
        assert reply is not None and reply["MsgType"] == "text", body

    async def direct(u: int, i: int) -> None:
        payload = {"sender": f"wechat:oDirect{u}", "message": "你好"}
        async with http.post(f"{rasa}/webhooks/rest/webhook", json=payload) as resp:
            assert resp.status == 200
            await resp.json()

    print(f"{'path':<34}{'users':>6}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}")
    for concurrency in (1, 20):
        per_user = max(1, turns // concurrency)
        for name, turn in (("gateway /wechat (AES)", via_gateway), ("Rasa REST directly", direct)):
            await load(concurrency, 3, turn)  # warm-up: connections, token, JIT-less caches
            samples = await load(concurrency, per_user, turn)
            p50, p95 = percentiles(samples)
            print(f"{name:<34}{concurrency:>6}{len(samples):>7}{p50:>9.1f}{p95:>9.1f}")


async def bench_notifier(
    http: aiohttp.ClientSession, redis: Redis, env: dict[str, str], wechat: str, events: int
) -> None:
    now = str(time.time())
    users = [f"oNote{i}" for i in range(50)]
    for openid in users:  # inside the 48-hour window: customer-service messages
        await redis.set(f"gw:seen:wechat:{openid}", now)
    for n in range(events):
        event: dict[str, object] = {
            "id": str(n + 1),
            "type": "application.accepted",
            "applicant": f"wechat:{users[n % 50]}",
            "application_code": "ZL-20240601-7K3M9Q",
            "payload": {},
            "created_at": None,
        }
        await redis.xadd("events", {"event": json.dumps(event)})
    async with http.get(f"{wechat}/_standin/calls") as resp:
        since = (await resp.json())["next"]
    started = time.perf_counter()
    notifier = await spawn("notifier", env=env)
    try:
        sends: list[float] = []
        while len(sends) < events:
            await asyncio.sleep(0.1)
            async with http.get(f"{wechat}/_standin/calls", params={"since": str(since)}) as resp:
                calls = (await resp.json())["calls"]
            sends = [
                c["at"] for c in calls if c["path"] == "/cgi-bin/message/custom/send" and c["errcode"] == 0
            ]
            if time.perf_counter() - started > 120:
                raise RuntimeError(f"only {len(sends)} of {events} notices sent")
        elapsed = time.perf_counter() - started
        steady = (len(sends) - 1) / (max(sends) - min(sends))
    finally:
        notifier.terminate()
        await notifier.wait()
    print(
        f"notifier: {events} notices (customer-service messages) in {elapsed:.2f} s including process "
        f"start-up = {events / elapsed:.0f} sends/s; {steady:.0f} sends/s from first send to last"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rasa-url", help="a running Rasa server instead of the stand-in")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--turns", type=int, default=400, help="turns per measurement")
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()

    redis = Redis.from_url(args.redis_url, decode_responses=True)
    await redis.flushdb()
    ports = {name: free_port() for name in ("wechat", "rasa", "gateway", "backend")}
    wechat, gateway = f"http://127.0.0.1:{ports['wechat']}", f"http://127.0.0.1:{ports['gateway']}"
    rasa = args.rasa_url or f"http://127.0.0.1:{ports['rasa']}"
    backend_runner = web.AppRunner(create_backend_standin(BackendStandinState()), access_log=None)
    await backend_runner.setup()
    await web.TCPSite(backend_runner, "127.0.0.1", ports["backend"]).start()
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": DEMO_AES_KEY,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": "bench",
        "WECHAT_API_BASE": wechat,
        "REDIS_URL": args.redis_url,
        "RASA_URL": rasa,
        "BACKEND_URL": f"http://127.0.0.1:{ports['backend']}",
        "RATE_LIMIT_USER_PER_MINUTE": "0",
        "RATE_LIMIT_IP_PER_MINUTE": "0",
    }
    processes = [await spawn("wechat-standin", "--port", str(ports["wechat"]), env=env)]
    if not args.rasa_url:
        processes.append(await spawn("rasa-standin", "--port", str(ports["rasa"]), env=env))
    processes.append(await spawn("--port", str(ports["gateway"]), env=env))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
            for url in (f"{wechat}/_standin/calls", f"{rasa}/status", f"{gateway}/healthz"):
                await wait_up(http, url)
            print(f"Rasa: {'real server at ' + rasa if args.rasa_url else 'stand-in (no model)'}")
            await bench_turns(http, gateway, rasa, args.turns)
            await bench_notifier(http, redis, env, wechat, args.events)
    finally:
        for process in processes:
            process.terminate()
            await process.wait()
        await backend_runner.cleanup()
        await redis.flushdb()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
