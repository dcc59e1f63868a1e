"""The backend as a subprocess of the app environment, for tests that cannot import it (the actions run
in .venv-rasa) or that need it as a real server (the end-to-end assistant tests), with a small synchronous
client for arranging test data (applications, uploads, approvals)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
SERVICE_KEY = "actions-test-service-key"
ADMIN_PASSWORD = "actions-test-admin-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackendProcess:
    """The backend as a subprocess, plus a tiny synchronous client for arranging test data."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "backend.log"
        self.env = {
            **os.environ,
            "BACKEND_HOST": "127.0.0.1",
            "BACKEND_PORT": str(self.port),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'backend.db'}",
            "DATA_DIR": str(tmp / "data"),
            "SERVICE_KEY": SERVICE_KEY,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PUBLIC_BASE_URL": self.url,
            "REDIS_URL": os.environ.get("TEST_ACTIONS_REDIS_URL", "redis://127.0.0.1:6379/11"),
            "EVENTS_STREAM": f"actions-test-events-{self.port}",
            # Handoff messages depend on the clock; tests accept either wording.
            "OFFICE_HOURS": os.environ.get("TEST_OFFICE_HOURS", "mon-sun 00:00-23:59"),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._staff_token: str | None = None

    def start(self) -> None:
        if not APP_PYTHON.exists():
            pytest.fail(f"{APP_PYTHON} is missing (make install builds the app environment)")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(APP_PYTHON), "-m", "backend"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"backend exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        pytest.fail(f"backend did not start in 60 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        # The event stream is this backend's alone; nothing reads it after the tests.
        import redis

        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.env["REDIS_URL"]).delete(self.env["EVENTS_STREAM"])

    # --- arranging data -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        applicant: str | None = None,
        token: str | None = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        headers = {"Content-Type": content_type}
        if token:  # staff: their session, not the service key
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers["X-Service-Key"] = SERVICE_KEY
        if applicant:
            headers["X-Applicant"] = applicant
        payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            self.url + "/api/v1" + path, data=payload, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def staff_token(self) -> str:
        if self._staff_token is None:
            login = self.call("POST", "/staff/login", {"username": "admin", "password": ADMIN_PASSWORD})
            self._staff_token = str(login["token"])
        return self._staff_token

    def upload(self, applicant: str, *, seed: int = 0, poor: bool = False) -> dict[str, Any]:
        """A photo of a document as the gateway stores it (POST /files): the backend's file record.
        `poor`: out of focus and taken in a dim room, which the backend keeps with quality warnings."""
        from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

        image = Image.new("RGB", (1200, 900), (245, 243, 236))
        draw = ImageDraw.Draw(image)
        for row in range(24):  # lines of "text", so the quality checks see a document, not a blank page
            y = 60 + row * 32
            draw.rectangle((80, y, 80 + 400 + (row * 37 + seed * 53) % 640, y + 12), fill=(40, 40, 40))
        if poor:
            image = ImageEnhance.Brightness(image.filter(ImageFilter.GaussianBlur(5))).enhance(0.15)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        boundary = "actionsTestBoundary"
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + buffer.getvalue()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return dict(
            self.call(
                "POST",
                "/files",
                applicant=applicant,
                data=data,
                content_type=f"multipart/form-data; boundary={boundary}",
            )
        )

    def application(self, applicant: str, package_id: str = "bookstore", **extra: Any) -> dict[str, Any]:
        body = {
            "package_id": package_id,
            "answers": extra.pop("answers", {}),
            "applicant": extra.pop(
                "info",
                {
                    "operator_name": "书香小屋",
                    "legal_representative": "李四",
                    "address": "兰山区通达路2号",
                    "phone": "13912345678",
                },
            ),
            **extra,
        }
        return dict(self.call("POST", "/applications", body, applicant=applicant))

    def complete_answers(self, package_id: str) -> dict[str, Any]:
        """Answers to every question of a package (the first option / no / 100), as the form would give."""
        answers: dict[str, Any] = {}
        while True:
            checklist = self.call("POST", "/checklists", {"package_id": package_id, "answers": answers})
            if not checklist["unanswered"]:
                return answers
            for question in checklist["unanswered"]:
                if question["type"] == "bool":
                    answers[question["id"]] = False
                elif question["type"] == "choice":
                    answers[question["id"]] = question["options"][0]["id"]
                else:
                    answers[question["id"]] = 100

    def provide(self, applicant: str, application: dict[str, Any], *, key_only: bool = False) -> None:
        """Marks the application's materials (only the key ones, with `key_only`) as handed in."""
        for material in application["materials"]:
            if material["key"] or not key_only:
                self.call(
                    "POST",
                    f"/applications/{application['code']}/materials",
                    {"material_id": material["material_id"]},
                    applicant=applicant,
                )

    def accepted_application(self, applicant: str, package_id: str = "bookstore") -> dict[str, Any]:
        created = self.application(applicant, package_id, answers=self.complete_answers(package_id))
        self.provide(applicant, created)
        return dict(self.call("POST", f"/applications/{created['code']}/submit", applicant=applicant))

    def decide(self, task_id: int, decision: dict[str, Any], token: str | None = None) -> Any:
        """A department's decision on a task, as staff (the admin token unless one is given)."""
        return self.call("POST", f"/tasks/{task_id}/decisions", decision, token=token or self.staff_token())

    def refuse(self, applicant: str, application: dict[str, Any], reason: str) -> dict[str, Any]:
        """The department of the first pending task refuses it (不予许可): the application is `rejected`."""
        task = next(t for t in application["tasks"] if t["status"] == "pending")
        self.decide(task["id"], {"decision": "reject", "reason": reason})
        return dict(self.call("GET", f"/applications/{application['code']}", applicant=applicant))

    def issue_licence(self, applicant: str, package_id: str = "bookstore") -> dict[str, Any]:
        """An application approved by every department, so its comprehensive licence exists."""
        application = self.accepted_application(applicant, package_id)
        token = self.staff_token()
        for _ in range(5):  # registration first, then the permits it unlocks
            current = self.call("GET", f"/applications/{application['code']}", applicant=applicant)
            open_tasks = [t for t in current["tasks"] if t["status"] in ("pending", "waiting")]
            pending = [t for t in open_tasks if t["status"] == "pending"]
            if not open_tasks:
                return dict(current)
            for task in pending:
                self.decide(task["id"], {"decision": "approve"}, token)
        return dict(self.call("GET", f"/applications/{application['code']}", applicant=applicant))
