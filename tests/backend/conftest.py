"""Backend fixtures: the real app on a real database, and a small client for applicant/staff calls."""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backend.app import create_app
from backend.settings import Settings

SERVICE_KEY = "test-service-key"
ADMIN_PASSWORD = "admin-password-123"


@pytest.fixture
def settings(database_url: str, redis_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        service_key=SERVICE_KEY,
        data_dir=data_dir,
        signing_key="test-signing-key-0123456789",
        admin_password=ADMIN_PASSWORD,
        relay_interval_seconds=0.05,
        events_stream=f"test-events-{secrets.token_hex(6)}",
    )


class Api:
    """Calls the backend as our own services do (service key + applicant) or as a logged-in staff member."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    def applicant_headers(self, applicant: str, **extra: str) -> dict[str, str]:
        return {"X-Service-Key": SERVICE_KEY, "X-Applicant": applicant, **extra}

    async def call(
        self,
        method: str,
        path: str,
        *,
        applicant: str | None = None,
        token: str | None = None,
        json: Any = None,
        expect: int | None = 200,
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = dict(headers or {})
        if applicant is not None:
            all_headers.update(self.applicant_headers(applicant))
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.client.request(method, "/api/v1" + path, json=json, headers=all_headers)
        body = await response.json() if response.content_type == "application/json" else await response.text()
        if expect is not None:
            assert response.status == expect, (response.status, body)
        return body

    async def login(self, username: str, password: str) -> str:
        body = await self.call("POST", "/staff/login", json={"username": username, "password": password})
        return str(body["token"])

    async def admin(self) -> str:
        return await self.login("admin", ADMIN_PASSWORD)

    async def reviewer(self, department_id: str, username: str | None = None) -> str:
        username = username or f"rev_{department_id}"[:60].lower().replace("-", "_")
        await self.call(
            "POST",
            "/staff",
            token=await self.admin(),
            expect=201,
            json={
                "username": username,
                "display_name": f"审批员 {department_id}",
                "password": "reviewer-pass-123",
                "role": "reviewer",
                "department_id": department_id,
            },
        )
        return await self.login(username, "reviewer-pass-123")


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(settings))


@pytest.fixture
def api(client: TestClient[Any, Any]) -> Api:
    return Api(client)
