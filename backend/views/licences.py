"""The licence card picture, and the public verification page its QR code opens (outside /api/v1, so the
code stays short and easy to scan)."""

import base64
import functools
import hashlib
import re
from collections.abc import AsyncIterator

from aiohttp import web

from backend import licences, verification
from backend.api import Access, Ctx, RouteTable
from backend.keys import DOMAIN, ENGINE, PICTURES, SESSIONMAKER, SETTINGS
from backend.materials.render import render_verification_page

routes = RouteTable(tag="licences")
PAGE_CACHE = web.AppKey("verification_page_cache", verification.PageCache)

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_PUBLIC = {
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@routes.route(
    "GET",
    "/licences/{number}/card.png",
    summary="许可证证照图片（含核验二维码）",
    access=Access.APPLICANT,
    produces="image/png",
)
async def licence_card(ctx: Ctx[None, None]) -> web.Response:
    app = ctx.request.app
    licence = await licences.get_for_applicant(
        ctx.session, applicant_key=ctx.applicant, number=ctx.path("number")
    )
    png = await app[PICTURES].card_png(verification.card_data(app[DOMAIN], licence))
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"},
    )


@functools.lru_cache(maxsize=8)
def _csp(style: str) -> str:
    """Nothing but the page's own inline style may apply: no scripts, images, frames or forms."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


async def verify_page(request: web.Request) -> web.Response:
    """What the QR code opens: each permit's live status, or 无法验证 (404) for a code we did not make."""
    app = request.app
    settings = app[SETTINGS]
    data = await verification.cached_page_data(
        app[PAGE_CACHE], app[ENGINE], app[DOMAIN], request.match_info["token"]
    )
    html = render_verification_page(data, timezone=settings.timezone)
    style = _STYLE.search(html)
    return web.Response(
        text=html,
        status=200 if data is not None else 404,
        content_type="text/html",
        charset="utf-8",
        headers={
            **_PUBLIC,
            "Cache-Control": "no-store",
            "Content-Security-Policy": _csp(style[1] if style else ""),
        },
    )


async def verified_card(request: web.Request) -> web.Response:
    """The card picture under the QR token: it shows what the verification page shows, so the gateway
    (which fetches images by URL, without credentials) can send it in chat."""
    settings = request.app[SETTINGS]
    async with request.app[SESSIONMAKER]() as session:
        licence = await verification.licence_for_token(session, settings, request.match_info["token"])
        if licence is None:
            raise web.HTTPNotFound(text="无法验证", headers=_PUBLIC)
        data = verification.card_data(request.app[DOMAIN], licence)
    png = await request.app[PICTURES].card_png(data)
    return web.Response(body=png, content_type="image/png", headers={**_PUBLIC, "Cache-Control": "no-cache"})


async def page_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    cache = verification.PageCache(app[SETTINGS].verification_cache_seconds)
    session_class = app[SESSIONMAKER].kw["sync_session_class"]
    listeners = verification.watch_licences(session_class, cache)
    app[PAGE_CACHE] = cache
    yield
    verification.unwatch(session_class, listeners)


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(page_cache_ctx)
    app.router.add_get("/v/{token}", verify_page)
    app.router.add_get("/v/{token}/card.png", verified_card)
