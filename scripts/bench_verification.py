"""The licence verification page (what the QR code opens) under load, on SQLite and PostgreSQL: p50/p95 at
1 and 50 concurrent clients (aim: p95 < 20 ms at 50), with the page cache on (as deployed) and off (every
scan a query), plus the public card picture once rendered. The backend runs in its own process, as in
production; this process is only the load.

    .venv/bin/python scripts/bench_verification.py [--quick] [--save-pictures DIR]

The load comes from plain keep-alive HTTP/1.1 connections (`Browser`), not aiohttp's client: on a small
machine shared with the server, aiohttp's client costs more per request than the page and would measure
itself. `--save-pictures DIR` also writes the card and a one-time notice, as the endpoints serve them.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backend import INFO, SERVICE_KEY, Backend, Client, lifecycle

AIM_P95_MS = 20.0
ANSWERS = {
    "entity_type": "individual",
    "premises": "leased",
    "area": 80,
    "food_handlers": 3,
    "cold_dishes": False,
    "takeaway": True,
    "uses_gas": True,
    "sells_alcohol": True,
    "via_agent": False,
}


class Browser:
    """One keep-alive connection sending plain GETs: a few microseconds of client work per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def measure(
    label: str, port: int, concurrency: int, total: int, path: str, aim: float | None = None
) -> None:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        browser = Browser(port)
        try:
            for _ in counter:
                start = time.perf_counter()
                status = await browser.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                if status != 200:
                    raise RuntimeError(f"GET {path}: {status}")
        finally:
            browser.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    verdict = "" if aim is None else ("  ok" if p95 < aim else f"  OVER the {aim:.0f} ms aim")
    print(
        f"  {label:<30} c={concurrency:<3} n={total:<5} p50={statistics.median(latencies):6.1f} ms  "
        f"p95={p95:6.1f} ms  {total / elapsed:7.0f}/s{verdict}"
    )


async def get_ok(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> bytes:
    async with http.get(url, headers=headers) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status}")
        return body


def write(target: Path, pictures: dict[str, bytes]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name, data in pictures.items():
        (target / name).write_bytes(data)


async def save_pictures(
    http: aiohttp.ClientSession, client: Client, base: str, number: str, target: Path
) -> None:
    applicant = "web:bench-notice"
    headers = {"X-Service-Key": SERVICE_KEY, "X-Applicant": "web:bench-reader"}
    card = await get_ok(http, f"{base}/api/v1/licences/{number}/card.png", headers)
    created = await client.call(
        "POST",
        "/applications",
        applicant=applicant,
        json={"package_id": "restaurant", "answers": ANSWERS, "applicant": INFO},
    )
    code = created["code"]
    materials = created["materials"]
    optional = [m for m in materials if not m["key"]]
    skip = {m["material_id"] for m in [m for m in materials if m["key"]][-2:] + optional[:1]}
    for material in materials:
        if material["material_id"] not in skip:
            await client.call(
                "POST",
                f"/applications/{code}/materials",
                applicant=applicant,
                json={"material_id": material["material_id"]},
            )
    if optional:
        await client.call(
            "POST",
            f"/applications/{code}/commitments",
            applicant=applicant,
            json={"material_id": optional[0]["material_id"]},
        )
    await client.call("POST", f"/applications/{code}/submit", applicant=applicant)
    notice_headers = {"X-Service-Key": SERVICE_KEY, "X-Applicant": applicant}
    notice = await get_ok(http, f"{base}/api/v1/applications/{code}/notice.png", notice_headers)
    await asyncio.to_thread(write, target, {"card.png": card, "notice.png": notice})
    print(f"  saved card.png ({len(card) // 1024} kB) and notice.png ({len(notice) // 1024} kB) to {target}")


async def run(
    database: str, database_url: str, redis_url: str, quick: bool, save: Path | None, cache: bool
) -> None:
    os.environ["VERIFICATION_CACHE_SECONDS"] = "1" if cache else "0"
    backend = Backend(database_url, redis_url)
    try:
        async with aiohttp.ClientSession() as http:
            await backend.wait(http)
            client = Client(http, backend.url)
            login = {"username": "admin", "password": "bench-admin-password"}
            admin = (await client.call("POST", "/staff/login", json=login))["token"]
            code = await lifecycle(client, admin, ANSWERS, "web:bench-reader")
            licence: dict[str, Any] = await client.call(
                "GET", f"/applications/{code}/licence", applicant="web:bench-reader"
            )
            if save is not None and cache:
                await save_pictures(http, client, backend.url, licence["number"], save / database.lower())
        page = urlsplit(licence["verification_url"]).path
        mode = "cache 1 s" if cache else "no cache"
        print(f"{database}, {mode}: licence {licence['number']} with {len(licence['permits'])} permits")
        reads = 500 if quick else 3000
        port = backend.port
        await measure(f"verification page ({mode})", port, 1, reads // 4, page)
        await measure(f"verification page ({mode})", port, 50, reads, page, AIM_P95_MS)
        if cache:
            await measure("card.png (rendered once)", port, 50, reads // 4, licence["card_url"])
    finally:
        backend.stop()


async def both(database: str, database_url: Callable[[], Awaitable[str]], redis_url: str, args: Any) -> None:
    for cache in (True, False):
        url = await database_url()
        await run(database, url, redis_url, args.quick, args.save_pictures, cache)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--save-pictures", type=Path, default=None)
    args = parser.parse_args()
    print(f"aim: verification page p95 < {AIM_P95_MS:.0f} ms at c=50")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATA_DIR"] = str(Path(tmp) / "data")  # the backend's cards and files, thrown away after
        runs = iter(range(100))

        async def sqlite() -> str:
            return f"sqlite+aiosqlite:///{tmp}/bench-{next(runs)}.db"

        await both("SQLite", sqlite, redis_url, args)
        try:
            pg = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres", timeout=3)
        except OSError as exc:
            print(f"PostgreSQL: not reachable ({exc}); skipped")
            return
        names: list[str] = []

        async def postgresql() -> str:
            names.append(f"zz_bench_{secrets.token_hex(4)}")
            await pg.execute(f'CREATE DATABASE "{names[-1]}"')
            return f"postgresql+asyncpg://postgres@127.0.0.1/{names[-1]}"

        try:
            await both("PostgreSQL", postgresql, redis_url, args)
        finally:
            for name in names:
                await pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await pg.close()


if __name__ == "__main__":
    asyncio.run(main())
