"""Health and the OpenAPI document."""

from typing import Any

from aiohttp import web
from sqlalchemy import text

from backend.keys import DOMAIN, ENGINE, SESSIONMAKER


async def healthz(request: web.Request) -> web.Response:
    async with request.app[SESSIONMAKER]() as session:
        await session.execute(text("SELECT 1"))
    return web.json_response(
        {
            "status": "ok",
            "database": request.app[ENGINE].dialect.name,
            "catalog_packages": len(request.app[DOMAIN].catalog.packages),
        }
    )


def setup(app: web.Application, openapi: dict[str, Any]) -> None:
    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(openapi)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
