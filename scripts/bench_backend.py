"""Backend latency and throughput on SQLite and PostgreSQL: reading an application's status, and a full
lifecycle (create → materials → submit → every department approves → licence), at 1 and 50 concurrent
clients. The backend runs in its own process, as in production; this process is only the load.

    .venv/bin/python scripts/bench_backend.py [--quick]
"""

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
SERVICE_KEY = "bench-service-key"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105  (a throw-away local server)
INFO = {"operator_name": "压测餐饮店", "legal_representative": "张三", "address": "临沂市兰山区 1 号"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backend:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "BACKEND_PORT": str(self.port),
            "SERVICE_KEY": SERVICE_KEY,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "EVENTS_STREAM": f"bench-{secrets.token_hex(4)}",
        }
        self.log = open(os.environ.get("BENCH_LOG", os.devnull), "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    async def wait(self, http: aiohttp.ClientSession) -> None:
        for _ in range(300):
            try:
                async with http.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("backend did not start (set BENCH_LOG=file to see its log)")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


class Client:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base + "/api/v1"

    async def call(
        self,
        method: str,
        path: str,
        *,
        applicant: str | None = None,
        token: str | None = None,
        json: Any = None,
    ) -> Any:
        headers = {}
        if applicant:
            headers = {"X-Service-Key": SERVICE_KEY, "X-Applicant": applicant}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.base + path, json=json, headers=headers) as response:
            body = await response.json()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {body}")
            return body


async def lifecycle(client: Client, admin: str, answers: dict[str, Any], applicant: str) -> str:
    created = await client.call(
        "POST",
        "/applications",
        applicant=applicant,
        json={"package_id": "restaurant", "answers": answers, "applicant": INFO},
    )
    code = created["code"]
    for material in created["materials"]:
        await client.call(
            "POST",
            f"/applications/{code}/materials",
            applicant=applicant,
            json={"material_id": material["material_id"]},
        )
    application = await client.call("POST", f"/applications/{code}/submit", applicant=applicant)
    while application["status"] != "completed":
        for task in application["tasks"]:
            if task["status"] == "pending":
                await client.call(
                    "POST", f"/tasks/{task['id']}/decisions", token=admin, json={"decision": "approve"}
                )
        application = await client.call("GET", f"/applications/{code}", applicant=applicant)
    return str(code)


async def measure(label: str, concurrency: int, total: int, op: Callable[[int], Awaitable[object]]) -> None:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(
        f"  {label:<22} c={concurrency:<3} n={total:<5} p50={statistics.median(latencies):7.1f} ms  "
        f"p95={p95:7.1f} ms  {total / elapsed:8.1f}/s"
    )


async def run(database: str, database_url: str, redis_url: str, quick: bool) -> None:
    backend = Backend(database_url, redis_url)
    try:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as http:
            await backend.wait(http)
            client = Client(http, backend.url)
            admin = (
                await client.call(
                    "POST", "/staff/login", json={"username": "admin", "password": ADMIN_PASSWORD}
                )
            )["token"]
            answers = {
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
            print(f"{database}:")
            codes = [await lifecycle(client, admin, answers, "web:bench-reader")]

            async def read(_: int) -> object:
                return await client.call("GET", f"/applications/{codes[0]}", applicant="web:bench-reader")

            reads = 200 if quick else 1000
            await measure("status read", 1, reads // 4, read)
            await measure("status read", 50, reads, read)

            async def full(i: int) -> object:
                return await lifecycle(client, admin, answers, f"web:bench-{i}")

            await measure("full lifecycle", 1, 5 if quick else 20, full)
            await measure("full lifecycle", 50, 50 if quick else 200, full)
    finally:
        backend.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", redis_url, args.quick)
    name = f"zz_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres", timeout=3)
    except OSError as exc:
        print(f"PostgreSQL: not reachable ({exc}); skipped")
        return
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await run("PostgreSQL", f"postgresql+asyncpg://postgres@127.0.0.1/{name}", redis_url, args.quick)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
