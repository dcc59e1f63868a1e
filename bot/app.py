"""The gateway web app: `/wechat`, the chat API, the chat page, `/healthz`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import COMPONENTS, SETTINGS
from bot.components import open_components
from bot.notifier import Notifier
from bot.settings import GatewaySettings
from bot.webchat import views as webchat
from bot.wechat import views as wechat

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "webchat" / "static"


async def components_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_components(app[SETTINGS]) as components:
        app[COMPONENTS] = components
        yield


async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
    notifier = Notifier.from_components(app[COMPONENTS])
    async with notifier.running():
        yield


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        message = "系统暂时繁忙，请稍后再试。"
        body = {
            "error": {"code": "internal", "message": message},
            "messages": [{"type": "text", "text": message}],
        }
        return web.json_response(body, status=500)


async def healthz(request: web.Request) -> web.Response:
    await request.app[COMPONENTS].redis.ping()
    return web.json_response({"status": "ok"})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def create_app(settings: GatewaySettings) -> web.Application:
    app = web.Application(
        middlewares=[errors, webchat.refusals],
        client_max_size=settings.webchat_max_upload_bytes + 64 * 1024,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(components_ctx)
    if settings.notifier_in_gateway:
        app.cleanup_ctx.append(notifier_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    app.router.add_get("/wechat", wechat.verify)
    app.router.add_post("/wechat", wechat.receive)
    app.router.add_post("/api/chat/messages", webchat.post_message)
    app.router.add_post("/api/chat/uploads", webchat.post_upload)
    app.router.add_get("/api/chat/notices", webchat.get_notices)
    app.router.add_post("/api/chat/session", webchat.post_session)
    app.router.add_post("/api/chat/login", webchat.post_login)
    app.router.add_post("/api/chat/subscriptions", webchat.post_subscriptions)
    return app
