"""Gateway benchmark, every server its own process as in production.

1. Latency: a WeChat turn in safe (AES) mode through `/wechat` vs. the same turn sent straight to Rasa's
   REST channel, p50 / p95 at 1 and 20 concurrent users, and the gateway's overhead at p95.
2. No loss, no duplicates (`--messages`, 5,000 by default): 20 users at a time (each replaced after 25
   messages) send messages through `/wechat` the way WeChat delivers them — a retry when no answer came
   within 5 s (3 tries at most) and, for one message in twenty, a second delivery of the same MsgId while
   the first is still in flight (another gateway copy, a network retry). Then every user's Rasa tracker
   must hold exactly one turn per message, and the texts the user received (passive replies +
   customer-service messages) must be exactly what Rasa said in those turns, each once.
3. The notifier: sends per second against the WeChat stand-in.

With a trained model (`make install`) it starts the real assistant — backend, action server and Rasa
(`scripts/bench_servers.py`) — otherwise the scripted Rasa stand-in, and says which.

    .venv/bin/python scripts/bench_gateway.py
    .venv/bin/python scripts/bench_gateway.py --rasa standin --messages 0
    .venv/bin/python scripts/bench_gateway.py --rasa-url http://127.0.0.1:5005  # `rasa run --enable-api`

The gateway uses Redis DB 12, flushed first (`--redis-url`); the assistant's trackers live in DB 11.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_servers import assistant_servers, free_port, have_assistant  # noqa: E402

from bot.dialogue import parse_rasa_response  # noqa: E402
from bot.settings import DEMO_AES_KEY  # noqa: E402
from bot.standin import BackendStandinState, create_backend_standin  # noqa: E402
from bot.wechat.rendering import TextPart, render_messages  # noqa: E402
from bot.wechat.simulator import SignedRequest, WeChatSimulator, message_xml  # noqa: E402

TOKEN, APPID = "bench-token", "wxbench000000001"
# What people send most: a greeting, a policy question, a catalog question, thanks. None hands over to
# staff or answers with a picture, so every reply is text that can be accounted for.
TEXTS = ["你好", "什么是容缺受理", "开火锅店要办哪些证", "谢谢"]
WECHAT_TIMEOUT = 5.0  # WeChat gives up on an answer after 5 s and retries, 3 tries in all
SOAK_USERS = 20
# A conversation's length, after which a simulated user is replaced by a new one: Rasa's cost per turn
# grows with the tracker (it reloads and re-merges every event on each save), and real conversations
# are short — hundreds of turns from one sender would measure Rasa's tracker store, not the gateway.
CONVERSATION_TURNS = 25
DUPLICATE_EVERY = 20


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


async def bench_turns(
    http: aiohttp.ClientSession, gateway: str, wechat: str, rasa: str, turns: int, run: str, *, real: bool
) -> None:
    """Each simulated user alternates the two paths with the same texts, so both see the same Rasa (warm
    or cold, busy or idle) — running one path after the other measured mostly the drift between them."""
    simulator = WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)
    msg_ids = iter(range(10**9))
    samples: dict[str, list[float]] = {"gateway": [], "direct": []}
    late = 0

    async def answered_later(openid: str, since: float) -> float:
        """When the turn that got `success` reached the user as a customer-service message."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for send in await standin_sends(http, wechat, 0):
                body = json.loads(send["body"]) if isinstance(send["body"], str) else send["body"]
                if body.get("touser") == openid and send["at"] >= since:
                    return float(send["at"])
            await asyncio.sleep(0.05)
        raise SystemExit(f"{openid}: the deferred answer never came")

    async def via_gateway(u: int, i: int, text: str) -> float:
        nonlocal late
        openid = f"oLat{run}{u}c{i // CONVERSATION_TURNS}"
        request = simulator.request(message_xml(openid, "text", Content=text, msg_id=next(msg_ids)))
        started, wall = time.perf_counter(), time.time()
        async with http.post(f"{gateway}/wechat", params=request.params, data=request.body) as resp:
            body = await resp.text()
        reply = simulator.read_reply(body)
        if reply is None:  # over the passive budget: the answer comes as a customer-service message
            late += 1
            return await answered_later(openid, wall) - wall
        assert reply["MsgType"] == "text", body
        return time.perf_counter() - started

    async def direct(u: int, i: int, text: str) -> float:
        payload = {"sender": f"wechat:oDirect{run}{u}c{i // CONVERSATION_TURNS}", "message": text}
        started = time.perf_counter()
        async with http.post(f"{rasa}/webhooks/rest/webhook", json=payload) as resp:
            assert resp.status == 200
            await resp.json()
        return time.perf_counter() - started

    async def user(u: int, count: int, record: bool) -> None:
        for i in range(count):
            text = TEXTS[i % len(TEXTS)]
            paths = [("gateway", via_gateway), ("direct", direct)]
            for name, turn in paths if (u + i) % 2 == 0 else reversed(paths):
                elapsed = await turn(u, i, text)
                if record:
                    samples[name].append(elapsed)

    print(f"{'path':<34}{'users':>6}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}")
    for concurrency in (1, 20):
        await asyncio.gather(*(user(u, 2 * len(TEXTS), False) for u in range(concurrency)))  # warm-up
        for bucket in samples.values():
            bucket.clear()
        late = 0
        per_user = max(1, turns // concurrency)
        await asyncio.gather(*(user(u, per_user, True) for u in range(concurrency)))
        p95s: dict[str, float] = {}
        for name, label in (("gateway", "gateway /wechat (AES)"), ("direct", "Rasa REST directly")):
            p50, p95s[name] = percentiles(samples[name])
            print(f"{label:<34}{concurrency:>6}{len(samples[name]):>7}{p50:>9.1f}{p95s[name]:>9.1f}")
        added = p95s["gateway"] - p95s["direct"]
        note = f"; {late} answered later as customer-service messages (counted until sent)" if late else ""
        if real:
            overhead = f"{added / p95s['direct'] * 100:+.0f}% (aim ≤ 30%)"
        else:  # the stand-in answers in about a millisecond: a percentage of that says nothing
            overhead = f"{added:+.1f} ms (against the stand-in; run with a model for the percentage)"
        print(f"    gateway overhead at p95 with {concurrency} user(s): {overhead}{note}")


@dataclass
class SoakUser:
    openid: str
    messages: int = 0
    deliveries: int = 0
    retries_after_timeout: int = 0
    passive: list[str] = field(default_factory=list)


async def deliver(
    http: aiohttp.ClientSession, gateway: str, request: SignedRequest, user: SoakUser
) -> str | None:
    """One delivery as WeChat makes it: the answer's body, or None when it did not come within 5 s."""
    user.deliveries += 1
    try:
        async with http.post(
            f"{gateway}/wechat",
            params=request.params,
            data=request.body,
            timeout=aiohttp.ClientTimeout(total=WECHAT_TIMEOUT),
        ) as resp:
            if resp.status != 200:
                raise SystemExit(f"/wechat answered HTTP {resp.status}: {await resp.text()}")
            return await resp.text()
    except TimeoutError:
        return None


async def soak_user(
    http: aiohttp.ClientSession,
    gateway: str,
    simulator: WeChatSimulator,
    user: SoakUser,
    count: int,
    msg_ids: Any,
) -> None:
    for k in range(count):
        msg_id = next(msg_ids)
        request = simulator.request(
            message_xml(user.openid, "text", Content=TEXTS[k % len(TEXTS)], msg_id=msg_id)
        )
        user.messages += 1
        early: asyncio.Task[str | None] | None = None
        if msg_id % DUPLICATE_EVERY == 0:
            early = asyncio.create_task(deliver(http, gateway, request, user))
            await asyncio.sleep(0.3)
        body = await deliver(http, gateway, request, user)
        for _ in range(2):
            if body is not None:
                break
            user.retries_after_timeout += 1
            body = await deliver(http, gateway, request, user)
        if early is not None:
            await early  # WeChat keeps only the answer to its latest delivery
        if body is None:
            raise SystemExit(f"{user.openid}: no answer to MsgId {msg_id} in three tries")
        reply = simulator.read_reply(body)
        if reply is not None:
            if reply["MsgType"] != "text":
                raise SystemExit(f"unexpected passive reply {reply}")
            user.passive.append(reply["Content"])


async def standin_sends(http: aiohttp.ClientSession, wechat: str, since: int) -> list[dict[str, Any]]:
    async with http.get(f"{wechat}/_standin/calls", params={"since": str(since)}) as resp:
        calls = (await resp.json())["calls"]
    return [c for c in calls if c["path"] == "/cgi-bin/message/custom/send" and c["errcode"] == 0]


async def settled_sends(http: aiohttp.ClientSession, wechat: str, since: int) -> list[dict[str, Any]]:
    """Customer-service sends once no new one has come for 3 s (follow-ups of the last turns)."""
    sends = await standin_sends(http, wechat, since)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 3:
        await asyncio.sleep(0.5)
        now = await standin_sends(http, wechat, since)
        if len(now) != len(sends):
            sends, quiet_since = now, time.monotonic()
    return sends


async def rasa_turns(http: aiohttp.ClientSession, rasa: str, sender: str) -> tuple[int, Counter[str]]:
    """How many user messages Rasa processed for `sender`, and the texts its replies render to on WeChat."""
    async with http.get(f"{rasa}/conversations/{sender}/tracker", params={"include_events": "ALL"}) as resp:
        if resp.status != 200:
            raise SystemExit(
                f"Rasa's tracker API answered HTTP {resp.status}: the soak needs `rasa run --enable-api`"
            )
        events = (await resp.json())["events"]
    turns, expected = 0, Counter[str]()
    said: list[dict[str, Any]] = []

    def close_turn() -> None:
        rendered = render_messages(parse_rasa_response(said).messages)
        expected.update(p.text for p in rendered.parts if isinstance(p, TextPart))
        said.clear()

    for event in events:
        if event.get("event") == "user":
            close_turn()
            turns += 1
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            said.append({"text": event.get("text"), **{k: v for k, v in data.items() if v}})
    close_turn()
    return turns, expected


async def bench_soak(
    http: aiohttp.ClientSession, gateway: str, wechat: str, rasa: str, messages: int, run: str
) -> None:
    simulator = WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)
    users: list[SoakUser] = []
    per_lane = max(1, messages // SOAK_USERS)
    since = len(await standin_sends(http, wechat, 0))
    msg_ids = iter(range(10**12, 10**13))

    async def lane(n: int) -> None:
        """One of the 20 people typing at any moment; every 25 messages a new one takes over."""
        for first in range(0, per_lane, CONVERSATION_TURNS):
            user = SoakUser(f"oSoak{run}{n:02d}c{first // CONVERSATION_TURNS}")
            users.append(user)
            count = min(CONVERSATION_TURNS, per_lane - first)
            await soak_user(http, gateway, simulator, user, count, msg_ids)

    started = time.perf_counter()
    progress = asyncio.create_task(report_progress(users, per_lane * SOAK_USERS, started))
    try:
        await asyncio.gather(*(lane(n) for n in range(SOAK_USERS)))
    finally:
        progress.cancel()
    elapsed = time.perf_counter() - started
    sends = await settled_sends(http, wechat, since)
    received: dict[str, Counter[str]] = {u.openid: Counter(u.passive) for u in users}
    for send in sends:
        body = json.loads(send["body"]) if isinstance(send["body"], str) else send["body"]
        if body.get("touser") in received and body.get("msgtype") == "text":
            received[body["touser"]][body["text"]["content"]] += 1
    lost_turns = duplicated_turns = missing = extra = 0
    for user in users:
        turns, expected = await rasa_turns(http, rasa, f"wechat:{user.openid}")
        lost_turns += max(0, user.messages - turns)
        duplicated_turns += max(0, turns - user.messages)
        missing += sum((expected - received[user.openid]).values())
        extra += sum((received[user.openid] - expected).values())
    total = sum(u.messages for u in users)
    deliveries = sum(u.deliveries for u in users)
    timeouts = sum(u.retries_after_timeout for u in users)
    print(
        f"soak: {total} messages, {len(users)} conversations of ≤ {CONVERSATION_TURNS} messages, "
        f"{SOAK_USERS} at a time, in {elapsed:.0f} s ({total / elapsed:.1f}/s), "
        f"{deliveries} deliveries ({deliveries - total} retries: {timeouts} after a 5 s timeout, the rest "
        f"duplicates in flight); {sum(len(u.passive) for u in users)} passive replies, {len(sends)} "
        "customer-service messages"
    )
    verdict = "OK" if not (lost_turns or duplicated_turns or missing or extra) else "FAILED"
    print(
        f"soak: turns lost {lost_turns}, turns processed twice {duplicated_turns}; reply texts missing "
        f"{missing}, delivered twice or unexpected {extra} — {verdict}"
    )
    if verdict != "OK":
        raise SystemExit(1)


async def report_progress(users: list[SoakUser], total: int, started: float) -> None:
    while True:
        await asyncio.sleep(15)
        done = sum(u.messages for u in users)
        print(f"  soak: {done}/{total} messages after {time.perf_counter() - started:.0f} s", file=sys.stderr)


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
            # Only the calls since the last look: fetching all of them each time cost the shared CPU more
            # than the notifier's sends as the list grew.
            async with http.get(f"{wechat}/_standin/calls", params={"since": str(since)}) as resp:
                page = await resp.json()
            since = page["next"]
            sends += [
                c["at"]
                for c in page["calls"]
                if c["path"] == "/cgi-bin/message/custom/send" and c["errcode"] == 0
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
    parser.add_argument(
        "--rasa",
        choices=("real", "standin"),
        default="real" if have_assistant() else "standin",
        help="the real assistant (default when a model is trained) or the scripted stand-in",
    )
    parser.add_argument("--rasa-url", help="a Rasa server already running with --enable-api")
    parser.add_argument("--messages", type=int, default=5000, help="messages in the no-loss run (0: skip)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--rasa-redis-db", default="11", help="Redis DB of the assistant's trackers")
    parser.add_argument("--turns", type=int, default=400, help="turns per measurement")
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()

    async with contextlib.AsyncExitStack() as stack:
        real = bool(args.rasa_url) or args.rasa == "real"
        rasa = args.rasa_url
        if real and not rasa:
            rasa = await stack.enter_async_context(
                assistant_servers(args.rasa_redis_db, rasa_args=("--enable-api",))
            )
        await run(args, rasa)


async def run(args: argparse.Namespace, real_rasa: str | None) -> None:
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    await redis.flushdb()
    ports = {name: free_port() for name in ("wechat", "rasa", "gateway", "backend")}
    wechat, gateway = f"http://127.0.0.1:{ports['wechat']}", f"http://127.0.0.1:{ports['gateway']}"
    rasa = real_rasa or f"http://127.0.0.1:{ports['rasa']}"
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
    if not real_rasa:
        processes.append(await spawn("rasa-standin", "--port", str(ports["rasa"]), env=env))
    processes.append(await spawn("--port", str(ports["gateway"]), env=env))
    run_id = uuid.uuid4().hex[:6]  # fresh senders: the assistant's trackers outlive a run
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
            for url in (f"{wechat}/_standin/calls", f"{rasa}/status", f"{gateway}/healthz"):
                await wait_up(http, url)
            print(f"Rasa: {'the real assistant at ' + rasa if real_rasa else 'scripted stand-in (no model)'}")
            await bench_turns(http, gateway, wechat, rasa, args.turns, run_id, real=bool(real_rasa))
            if args.messages and real_rasa:
                await bench_soak(http, gateway, wechat, rasa, args.messages, run_id)
            elif args.messages:
                print("soak: skipped — it counts turns in Rasa's trackers, so it needs the real assistant")
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
