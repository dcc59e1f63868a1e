"""Assistant benchmark: turn latency through Rasa + the action server + the backend, p50 / p95 at 1 and 20
concurrent conversations, over Rasa's REST channel as the gateway uses it.

Every server runs as its own process, as in production: the backend (``python -m backend``, a throwaway
SQLite database), the action server (``scripts/rasa_env.sh actions``) and Rasa
(``scripts/rasa_env.sh run``, Redis tracker and lock stores). Each conversation greets, asks which licences
a hot-pot restaurant needs, asks a policy question, answers the whole questionnaire (with a time-limit
question in the middle) and asks for its progress.

    .venv/bin/python scripts/bench_assistant.py
    .venv/bin/python scripts/bench_assistant.py --rasa-url http://127.0.0.1:5005   # servers already running

Uses Redis DB 11 (``--redis-db``); conversations use fresh sender ids and expire after an hour.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_servers import assistant_servers, have_assistant

# (what the turn exercises, the message)
CONVERSATION = [
    ("NLU + response", "你好"),
    ("catalog action", "开火锅店要办哪些证"),
    ("policy search", "什么是容缺受理"),
    ("form step", "/start_checklist"),
    ("form step", "个体户"),
    ("form step", "租的"),
    ("form step", "两百平左右"),
    ("interruption", "多久能办好"),
    ("form step", "3个人"),
    ("form step", "不做凉菜"),
    ("form step", "有外卖，美团上"),
    ("form step", "用天然气"),
    ("form step", "卖点啤酒"),
    ("form end + checklist", "不用代办，自己办"),
    ("progress", "办到哪一步了"),
]


async def conversation(http: aiohttp.ClientSession, rasa_url: str, timings: dict[str, list[float]]) -> None:
    sender = f"web:bench-{uuid.uuid4().hex[:12]}"
    for label, message in CONVERSATION:
        started = time.perf_counter()
        async with http.post(
            rasa_url + "/webhooks/rest/webhook", json={"sender": sender, "message": message}
        ) as response:
            replies = await response.json()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200 or not replies:
            raise SystemExit(f"turn {message!r} answered HTTP {response.status}: {replies!r}")
        if any("系统繁忙" in str(r.get("text", "")) for r in replies):
            raise SystemExit(f"turn {message!r}: an action could not reach the backend")
        timings[label].append(elapsed)
        timings["all turns"].append(elapsed)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def level(rasa_url: str, concurrency: int, rounds: int) -> tuple[dict[str, list[float]], float]:
    timings: dict[str, list[float]] = defaultdict(list)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        started = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(conversation(http, rasa_url, timings) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return timings, wall


async def run(args: argparse.Namespace) -> None:
    async with contextlib.AsyncExitStack() as stack:
        rasa_url = args.rasa_url or await stack.enter_async_context(assistant_servers(args.redis_db))
        await level(rasa_url, 1, 1)  # warm-up: TensorFlow graphs, catalog caches, connections
        print(f"\nAssistant turn latency (Rasa {rasa_url}, {len(CONVERSATION)} turns per conversation)")
        header = ("concurrent", "turn", "turns", "p50 ms", "p95 ms", "max ms", "turns/s")
        print("{:>10} {:<22} {:>6} {:>8} {:>8} {:>8} {:>8}".format(*header))
        for concurrency, rounds in ((1, args.rounds_single), (20, args.rounds_concurrent)):
            timings, wall = await level(rasa_url, concurrency, rounds)
            total = len(timings["all turns"])
            for label in ["all turns", *dict.fromkeys(label for label, _ in CONVERSATION)]:
                values = timings[label]
                rate = f"{total / wall:8.1f}" if label == "all turns" else ""
                print(
                    f"{concurrency:>10} {label:<22} {len(values):>6} {statistics.median(values):>8.1f} "
                    f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f} {rate:>8}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa-url", help="use servers already running (Rasa + actions + backend)")
    parser.add_argument("--redis-db", default="11")
    parser.add_argument("--rounds-single", type=int, default=10, help="conversations one after another")
    parser.add_argument(
        "--rounds-concurrent", type=int, default=3, help="rounds of 20 parallel conversations"
    )
    args = parser.parse_args()
    if not args.rasa_url and not have_assistant():
        print("bench_assistant: skipped — needs .venv-rasa and models/current.tar.gz (make install)")
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
