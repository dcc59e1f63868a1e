"""The application backend as the actions see it: its REST API over HTTP, nothing else (DESIGN.md §2).

Every call has a short total timeout (``BACKEND_TIMEOUT``, 3 s by default) because a Rasa turn waits for
the action, the gateway waits for Rasa, and WeChat gives the gateway 5 s in all. Failures fall into two
kinds the actions treat differently:

* ``BackendUnavailable`` — no answer, a timeout, a 5xx or a body that is not JSON: the action says
  "系统繁忙" and the applicant tries again later;
* ``BackendRefused`` — a 4xx with the backend's error body: its ``message`` is Chinese written for the
  applicant (``docs/backend-api.md``) and is relayed as it is.

The catalog is configuration data that changes only on a backend restart, so packages and checklists are
cached briefly here: the questionnaire asks the backend for the next question on every turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp

log = logging.getLogger(__name__)

API = "/api/v1"


class BackendUnavailable(Exception):
    """The backend did not answer usefully (down, slow, 5xx, not JSON)."""


class BackendRefused(Exception):
    """A 4xx answer; ``message`` is the backend's Chinese explanation for the applicant."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class BackendSettings:
    url: str
    public_url: str
    service_key: str
    timeout: float

    @classmethod
    def from_env(cls) -> BackendSettings:
        url = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
        return cls(
            url=url,
            # Links shown to people ("查看原文") must be reachable from their phone, not only from here.
            public_url=(os.environ.get("BACKEND_PUBLIC_URL") or url).rstrip("/"),
            service_key=os.environ.get("SERVICE_KEY", "dev-service-key"),
            timeout=float(os.environ.get("BACKEND_TIMEOUT", "3")),
        )


class _TtlCache:
    """A small LRU with expiry: enough for catalog look-ups, no dependency."""

    def __init__(self, *, ttl: float, size: int) -> None:
        self._ttl = ttl
        self._size = size
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: str, value: Any) -> None:
        self._items[key] = (time.monotonic() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class Backend:
    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        # aiohttp sessions belong to one event loop; the action server has one, tests have one per test.
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )
        self._catalog = _TtlCache(ttl=300, size=64)
        self._checklists = _TtlCache(ttl=120, size=1024)

    # --- plumbing -------------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                headers={"X-Service-Key": self.settings.service_key},
                connector=aiohttp.TCPConnector(limit=100),
            )
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        applicant: str | None = None,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {}
        if applicant:
            headers["X-Applicant"] = applicant
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key[:200]
        url = self.settings.url + API + path
        started = time.perf_counter()
        try:
            async with self._session().request(
                method, url, json=json_body, params=params, headers=headers
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("backend %s %s failed: %r", method, path, exc)
            raise BackendUnavailable(f"{method} {path}: {exc!r}") from exc
        log.debug(
            "backend %s %s → %s in %.0f ms", method, path, status, 1000 * (time.perf_counter() - started)
        )
        try:
            data = json.loads(body) if body else None
        except ValueError as exc:
            raise BackendUnavailable(f"{method} {path}: HTTP {status}, not JSON") from exc
        if status >= 500:
            raise BackendUnavailable(f"{method} {path}: HTTP {status}")
        if status >= 400:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            raise BackendRefused(
                status,
                str(error.get("code", "error")),
                str(error.get("message") or "请求未能完成，请稍后再试。"),
                error.get("field"),
            )
        return data

    def public_link(self, path: str) -> str:
        """An absolute URL for a backend path, for links people open (policy texts)."""
        return urljoin(self.settings.public_url + "/", path.lstrip("/")) if path.startswith("/") else path

    def image_url(self, path: str) -> str:
        """Pictures the backend serves under signed public paths (notices, licence cards): a backend-relative
        path is fine (the gateway joins it to its backend base); an explicit BACKEND_PUBLIC_URL makes it
        absolute for clients that reach Rasa directly."""
        if path.startswith("/") and self.settings.public_url != self.settings.url:
            return self.public_link(path)
        return path

    # --- catalog --------------------------------------------------------------------------------------

    async def packages(self) -> list[dict[str, Any]]:
        cached = self._catalog.get("packages")
        if cached is None:
            cached = (await self.call("GET", "/catalog/packages"))["packages"]
            self._catalog.put("packages", cached)
        return list(cached)

    async def package(self, package_id: str) -> dict[str, Any]:
        key = "package:" + package_id
        cached = self._catalog.get(key)
        if cached is None:
            cached = await self.call("GET", f"/catalog/packages/{package_id}")
            self._catalog.put(key, cached)
        return dict(cached)

    async def checklist(self, package_id: str, answers: dict[str, Any]) -> dict[str, Any]:
        key = package_id + json.dumps(answers, sort_keys=True, ensure_ascii=False)
        cached = self._checklists.get(key)
        if cached is None:
            cached = await self.call(
                "POST", "/checklists", json_body={"package_id": package_id, "answers": answers}
            )
            self._checklists.put(key, cached)
        return dict(cached)

    # --- policies -------------------------------------------------------------------------------------

    async def search_policies(self, question: str, *, limit: int = 3, margin: float = 0.0) -> dict[str, Any]:
        params: dict[str, Any] = {"q": question[:200], "limit": limit}
        if margin:
            params["margin"] = margin
        return dict(await self.call("GET", "/policies/search", params=params))

    # --- applications ---------------------------------------------------------------------------------

    async def applications(self, applicant: str) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/applications", applicant=applicant))["applications"])

    async def application(self, applicant: str, code: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/applications/{code}", applicant=applicant))

    async def create_application(
        self, applicant: str, body: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]:
        return dict(
            await self.call(
                "POST", "/applications", applicant=applicant, json_body=body, idempotency_key=idempotency_key
            )
        )

    async def update_application(self, applicant: str, code: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.call("PATCH", f"/applications/{code}", applicant=applicant, json_body=body))

    async def attach_material(
        self, applicant: str, code: str, material_id: str, file_id: str | None, *, turn: str | None = None
    ) -> dict[str, Any]:
        """`turn`: the message being answered. A file taken back may be filed again later; without the turn
        in the key the backend would replay the first answer and file nothing."""
        body: dict[str, Any] = {"material_id": material_id}
        if file_id:
            body["file_id"] = file_id
        return dict(
            await self.call(
                "POST",
                f"/applications/{code}/materials",
                applicant=applicant,
                json_body=body,
                idempotency_key=f"attach:{code}:{material_id}:{file_id}" + (f":{turn}" if turn else ""),
            )
        )

    async def remove_material_file(
        self, applicant: str, code: str, material_id: str, file_id: str
    ) -> dict[str, Any]:
        """Takes one file back from a material (a photo sent by mistake); the application as it is now."""
        return dict(
            await self.call(
                "DELETE", f"/applications/{code}/materials/{material_id}/files/{file_id}", applicant=applicant
            )
        )

    async def commit_material(
        self, applicant: str, code: str, material_id: str, kind: str = "later"
    ) -> dict[str, Any]:
        """容缺后补 (`later`) or 告知承诺 (`pledge`) for one material."""
        return dict(
            await self.call(
                "POST",
                f"/applications/{code}/commitments",
                applicant=applicant,
                json_body={"material_id": material_id, "kind": kind},
            )
        )

    async def submit(self, applicant: str, code: str) -> dict[str, Any]:
        return dict(await self.call("POST", f"/applications/{code}/submit", applicant=applicant))

    async def reapply(self, applicant: str, code: str) -> dict[str, Any]:
        """A draft from a refused application; asked again, the same draft (the backend never makes two)."""
        return dict(await self.call("POST", f"/applications/{code}/reapply", applicant=applicant))

    # --- licences, handoffs, ratings ------------------------------------------------------------------

    async def licences(self, applicant: str) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/licences", applicant=applicant))["licences"])

    async def request_handoff(self, applicant: str, reason: str, note: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": reason}
        if note:
            body["note"] = note[:1000]
        return dict(await self.call("POST", "/handoffs", applicant=applicant, json_body=body))

    async def rate(self, applicant: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.call("POST", "/ratings", applicant=applicant, json_body=body))


_backend: Backend | None = None
_clients: weakref.WeakSet[Backend] = weakref.WeakSet()


def backend() -> Backend:
    """The process-wide client; created on first use because rasa_sdk builds actions without arguments."""
    global _backend
    if _backend is None:
        _backend = Backend(BackendSettings.from_env())
        _clients.add(_backend)
    return _backend


def reset_backend() -> None:
    """Forget the client (tests point BACKEND_URL at a fresh backend); `close_clients` closes it."""
    global _backend
    _backend = None


async def close_clients() -> None:
    """Closes every client's session of the running event loop."""
    for client in list(_clients):
        await client.close()
