"""The few backend calls the gateway and the notifier make (docs/backend-api.md).

Every call carries `X-Service-Key`; calls made for a person also carry `X-Applicant`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

GENERIC_FAILURE = "系统暂时繁忙，请稍后再试。"


class BackendError(Exception):
    """The backend could not be reached or failed (5xx); the caller may retry later."""


class BackendRejected(Exception):
    """A 4xx with the backend's Chinese message, meant to be shown to the person as it is."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    content_type: str = ""
    warnings: list[str] = field(default_factory=list)
    thumbnail_url: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    applicant: str
    application_code: str | None
    payload: dict[str, Any]
    created_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        payload = data.get("payload") or {}
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            applicant=str(data.get("applicant") or ""),
            application_code=data.get("application_code"),
            payload=payload if isinstance(payload, dict) else {},
            created_at=data.get("created_at"),
        )


class BackendClient:
    def __init__(self, *, base_url: str, service_key: str, http: aiohttp.ClientSession) -> None:
        self._base = base_url.rstrip("/") + "/api/v1"
        self._service_key = service_key
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=15)

    def _headers(self, applicant: str | None) -> dict[str, str]:
        headers = {"X-Service-Key": self._service_key}
        if applicant:
            headers["X-Applicant"] = applicant
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        applicant: str | None = None,
        json: Any = None,
        data: Any = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        try:
            async with self._http.request(
                method,
                self._base + path,
                headers=self._headers(applicant),
                json=json,
                data=data,
                params=params,
                timeout=self._timeout,
            ) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BackendError(f"{method} {path}: {exc or type(exc).__name__}") from exc
        if status >= 500:
            raise BackendError(f"{method} {path}: HTTP {status}")
        return status, body

    @staticmethod
    def _rejected(status: int, body: Any) -> BackendRejected:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return BackendRejected(
            status, str(error.get("code", "error")), str(error.get("message") or GENERIC_FAILURE)
        )

    async def store_file(
        self, *, applicant: str, data: bytes, filename: str, content_type: str
    ) -> StoredFile:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=filename, content_type=content_type)
        status, body = await self._request("POST", "/files", applicant=applicant, data=form)
        if status >= 400 or not isinstance(body, dict) or "file_id" not in body:
            raise self._rejected(status, body)
        return StoredFile(
            file_id=str(body["file_id"]),
            content_type=str(body.get("content_type") or content_type),
            warnings=[str(w) for w in body.get("warnings") or []],
            thumbnail_url=body.get("thumbnail_url"),
        )

    async def post_handoff_message(self, *, applicant: str, handoff_id: str, text: str) -> None:
        status, body = await self._request(
            "POST", f"/handoffs/{handoff_id}/messages", applicant=applicant, json={"text": text}
        )
        if status >= 400:
            raise self._rejected(status, body)

    async def close_handoff(self, *, applicant: str, handoff_id: str) -> None:
        """The person left human mode; closing an already closed handoff succeeds too."""
        status, body = await self._request("POST", f"/handoffs/{handoff_id}/close", applicant=applicant)
        if status >= 400:
            raise self._rejected(status, body)

    async def events_after(self, after: str | None, *, limit: int = 200) -> list[Event]:
        params = {"limit": str(limit)}
        if after is not None:
            params["after"] = after
        status, body = await self._request("GET", "/events", params=params)
        if status >= 400:
            raise self._rejected(status, body)
        items = body.get("events", []) if isinstance(body, dict) else body
        return [Event.from_json(item) for item in items or []]

    async def get_cursor(self, consumer: str) -> str | None:
        status, body = await self._request("GET", f"/events/cursors/{consumer}")
        if status == 404:
            return None
        if status >= 400 or not isinstance(body, dict):
            raise self._rejected(status, body)
        last_id = body.get("last_id")
        return None if last_id is None else str(last_id)

    async def put_cursor(self, consumer: str, last_id: str) -> None:
        status, body = await self._request("PUT", f"/events/cursors/{consumer}", json={"last_id": last_id})
        if status >= 400:
            raise self._rejected(status, body)
