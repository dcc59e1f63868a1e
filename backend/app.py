"""The application backend: `create_app(settings)` builds it without I/O; resources open at start-up."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend import staff
from backend.api import RouteTable, add_routes, openapi_document
from backend.console import setup_console
from backend.db import make_engine, make_sessionmaker, migrate
from backend.domain import load_domain
from backend.events import Relay
from backend.keys import DOMAIN, ENGINE, FILES, PICTURES, REDIS, SESSIONMAKER, SETTINGS
from backend.materials.storage import FileStore
from backend.middlewares import errors
from backend.periodic import Periodic
from backend.pictures import Pictures
from backend.policies import views as policies
from backend.settings import Settings
from backend.views import applications, catalog, events, files, handoffs, licences, ratings, system, tasks
from backend.views import staff as staff_views

API_TABLES: list[RouteTable] = [
    catalog.routes,
    applications.routes,
    tasks.routes,
    events.routes,
    staff_views.routes,
    policies.routes,
    handoffs.routes,
    ratings.routes,
    files.routes,
    licences.routes,
]
OPENAPI = web.AppKey("openapi", dict[str, Any])
RELAY = web.AppKey("relay", Relay)


async def domain_ctx(app: web.Application) -> AsyncIterator[None]:
    # Loading here (not in create_app) keeps the factory free of I/O; a bad catalog still stops start-up.
    app[DOMAIN] = load_domain(app[SETTINGS])
    yield


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = make_engine(settings.database_url)
    await migrate(engine)
    app[ENGINE] = engine
    app[SESSIONMAKER] = make_sessionmaker(engine)
    async with app[SESSIONMAKER]() as session:
        await staff.ensure_admin(session, username=settings.admin_username, password=settings.admin_password)
    yield
    await engine.dispose()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    app[REDIS] = Redis.from_url(app[SETTINGS].redis_url, decode_responses=True)
    yield
    await app[REDIS].aclose()


async def relay_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    relay = Relay(app[SESSIONMAKER], app[REDIS], settings.events_stream, settings.relay_interval_seconds)
    app[RELAY] = relay
    session_class = app[SESSIONMAKER].kw["sync_session_class"]

    def wake(_session: Session) -> None:
        relay.wake()

    event.listen(session_class, "after_commit", wake)
    task = asyncio.create_task(relay.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=5)
    event.remove(session_class, "after_commit", wake)


async def files_ctx(app: web.Application) -> AsyncIterator[None]:
    # Materials on disk, and the bounded thread pool every Pillow job (uploads, cards, notices) runs on.
    settings = app[SETTINGS]
    app[FILES] = FileStore(settings.data_dir / "files")
    app[PICTURES] = Pictures(settings)
    await app[PICTURES].warm_up()
    yield
    app[PICTURES].close()


async def periodic_ctx(app: web.Application) -> AsyncIterator[None]:
    # 容缺 reminders and idle human conversations; `app[DOMAIN]` is read each round (catalog reloads).
    periodic = Periodic(app[SESSIONMAKER], lambda: app[DOMAIN], app[SETTINGS].reminder_interval_seconds)
    task = asyncio.create_task(periodic.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[errors], client_max_size=settings.max_upload_bytes + 1024 * 1024)
    app[SETTINGS] = settings
    app[OPENAPI] = openapi_document(API_TABLES, title="证照联办 application backend", version="1.0.0")
    app.cleanup_ctx.extend([domain_ctx, database_ctx, redis_ctx, relay_ctx, periodic_ctx, files_ctx])
    add_routes(app, API_TABLES)
    system.setup(app, app[OPENAPI])
    policies.setup_policies(app, settings)
    licences.setup(app)
    applications.setup(app)
    setup_console(app)
    return app
