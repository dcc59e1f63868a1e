"""The staff console: server-rendered pages under `/console/` for window agents (human handoff),
department reviewers (decisions) and admins (overview, accounts, catalog reload, audit log).

Wiring (backend/app.py): `setup_console(app)` at creation; nothing here does I/O before start-up.
"""

from aiohttp import web

from backend.console import admin, agents, login, reviewers
from backend.console.pages import STATIC_DIR, STATIC_PATH


def setup_console(app: web.Application) -> None:
    app[admin.RELOADS] = []
    for module in (login, agents, reviewers, admin):
        app.router.add_routes(module.routes)
    app.router.add_static(STATIC_PATH, STATIC_DIR, append_version=False)
