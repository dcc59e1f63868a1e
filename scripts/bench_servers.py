"""Servers for the benchmarks, each its own process as in production: the backend, the action server and
Rasa (``assistant_servers``), on free ports, with a throwaway SQLite database.

Imported by scripts/bench_assistant.py and scripts/bench_gateway.py; not a benchmark itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parents[1]
RASA_ENV = ROOT / ".venv-rasa"
MODEL = ROOT / "models" / "current.tar.gz"
SERVICE_KEY = "bench-service-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def have_assistant() -> bool:
    return (RASA_ENV / "bin" / "rasa").exists() and MODEL.exists()


async def wait_for(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process, *, within: float
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise SystemExit(f"{url}: the server exited (code {process.returncode})")
        with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.5)
    raise SystemExit(f"{url} did not come up in {within:.0f} s")


@contextlib.asynccontextmanager
async def assistant_servers(redis_db: str, *, rasa_args: tuple[str, ...] = ()) -> AsyncIterator[str]:
    """Backend, action server and Rasa on free ports; yields Rasa's URL. Logs go to a temporary folder,
    named on stderr when a server fails to start."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-assistant-"))
    backend_port, action_port, rasa_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(backend_port),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'backend.db'}",
        "DATA_DIR": str(tmp / "data"),
        "SERVICE_KEY": SERVICE_KEY,
        "EVENTS_STREAM": f"bench-assistant-{backend_port}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "BACKEND_URL": f"http://127.0.0.1:{backend_port}",
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_PORT": str(rasa_port),
        "REDIS_DB": redis_db,
        "RASA_TRACKER_TTL": "3600",
    }
    commands = [
        (
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "backend"],
            f"http://127.0.0.1:{backend_port}/healthz",
        ),
        ([str(ROOT / "scripts" / "rasa_env.sh"), "actions"], f"http://127.0.0.1:{action_port}/health"),
        ([str(ROOT / "scripts" / "rasa_env.sh"), "run", *rasa_args], f"http://127.0.0.1:{rasa_port}/"),
    ]
    processes: list[asyncio.subprocess.Process] = []
    try:
        async with aiohttp.ClientSession() as http:
            for command, url in commands:
                name = Path(command[0]).name if command[1] == "-m" else command[1]
                log = (tmp / f"{name}.log").open("wb")
                process = await asyncio.create_subprocess_exec(
                    *command, cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
                )
                processes.append(process)
                print(f"  starting {name} (log {log.name}) …", file=sys.stderr)
                await wait_for(http, url, process, within=900)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for process in reversed(processes):
            if process.returncode is None:
                process.terminate()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), 20)
        redis = Redis.from_url(env["REDIS_URL"])
        with contextlib.suppress(RedisError):
            await redis.delete(env["EVENTS_STREAM"])  # this run's backend events; nobody reads them
        await redis.aclose()
