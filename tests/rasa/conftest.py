"""The whole assistant as it runs in production, for the end-to-end tests: the backend
(``.venv/bin/python -m backend``), the action server (``scripts/rasa_env.sh actions``) and the Rasa server
(``scripts/rasa_env.sh run``, REST channel, Redis tracker and lock stores), each a subprocess on a free port.

Rasa needs ~30 s to start, so one set of servers serves a whole test module. Without .venv-rasa or the
trained model the tests are skipped, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.actions.backend_process import SERVICE_KEY, BackendProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
RASA_ENV = ROOT / ".venv-rasa"
MODEL = ROOT / "models" / "current.tar.gz"
REDIS_HOST = os.environ.get("TEST_RASA_REDIS_HOST", "127.0.0.1")
REDIS_PORT = os.environ.get("TEST_RASA_REDIS_PORT", "6379")
REDIS_DB = os.environ.get("TEST_RASA_REDIS_DB", "11")  # our own DB: the bot tests use 14, the app 13
# `rasa_env.sh run` retrains first when nlu_data/ or config/rasa/ changed, which takes minutes.
START_TIMEOUT = float(os.environ.get("TEST_RASA_START_TIMEOUT", "900"))


def rasa_env(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`scripts/rasa_env.sh ARGS`, output captured, TensorFlow's import warnings silenced."""
    return subprocess.run(
        ["scripts/rasa_env.sh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"{url} not up after {timeout:.0f} s: {log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Assistant:
    """The running stack; `say` is one turn through Rasa's REST channel, as the gateway sends it."""

    rasa_url: str
    backend: BackendProcess
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            self.rasa_url + "/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return list(json.loads(response.read()))

    @staticmethod
    def new_sender() -> str:
        return f"web:e2e-{uuid.uuid4().hex[:12]}"


def _require_rasa() -> None:
    missing = [str(p) for p in (RASA_ENV / "bin" / "rasa", MODEL) if not p.exists()]
    if missing:
        message = f"needs {', '.join(missing)} (make install trains the model)"
        if os.environ.get("CI"):
            pytest.fail(message + " — required in CI")
        pytest.skip(message)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    _require_rasa()
    tmp = tmp_path_factory.mktemp("assistant")
    backend = BackendProcess(tmp)
    backend.start()
    action_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "BACKEND_URL": backend.url,
        "BACKEND_PUBLIC_URL": backend.url,
        "SERVICE_KEY": SERVICE_KEY,
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_PORT": str(rasa_port),
        "REDIS_HOST": REDIS_HOST,
        "REDIS_PORT": REDIS_PORT,
        "REDIS_DB": REDIS_DB,
        "RASA_TRACKER_TTL": "3600",  # test conversations expire by themselves
    }
    stack = Assistant(rasa_url=f"http://127.0.0.1:{rasa_port}", backend=backend)
    try:
        for command, url, log_name in [
            ("actions", f"http://127.0.0.1:{action_port}/health", "actions.log"),
            ("run", stack.rasa_url + "/", "rasa.log"),
        ]:
            log = tmp / log_name
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(ROOT / "scripts" / "rasa_env.sh"), command],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            stack.processes.append(process)
            _wait_until_up(url, process, log, START_TIMEOUT)
        yield stack
    finally:
        for process in reversed(stack.processes):
            _stop(process)
        backend.stop()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons") or []]
