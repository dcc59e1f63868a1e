"""Signing in and out of the console, and the landing page for each role."""

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from backend import staff
from backend.auth import SESSION_COOKIE
from backend.console.pages import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    LOGIN_PATH,
    PREFIX,
    Page,
    console_view,
    current_session,
    new_login_token,
    secure_cookies,
    secured,
    see_other,
    set_session_cookie,
    templates,
)
from backend.db import begin_write
from backend.errors import Unauthorized
from backend.keys import SESSIONMAKER, SETTINGS

routes = web.RouteTableDef()
HOMES = {"agent": PREFIX + "/handoffs", "reviewer": PREFIX + "/tasks", "admin": PREFIX + "/overview"}


def home_for(role: str) -> str:
    return HOMES.get(role, PREFIX + "/")


def safe_next(target: str | None) -> str | None:
    """Only a console path of this site: never another host (`//evil`, `/\\evil`) or a scheme."""
    if not target or not target.startswith(PREFIX + "/") or "\\" in target or "//" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(LOGIN_PATH):
        return None
    return target


def _login_page(
    request: web.Request, *, status: int = 200, error: str | None = None, username: str = ""
) -> web.StreamResponse:
    token = new_login_token()
    html = (
        templates()
        .get_template("login.html")
        .render(
            login_token=token,
            csrf_field=CSRF_FIELD,
            next=safe_next(request.query.get("next")) or "",
            error=error,
            username=username,
            path=request.path,
            flash=None,
        )
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    # Double-submit token: the form must carry what this cookie holds (there is no session yet).
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request.app[SETTINGS]),
    )
    return secured(response)


@routes.get(LOGIN_PATH)
async def login_form(request: web.Request) -> web.StreamResponse:
    async with request.app[SESSIONMAKER]() as session:
        signed_in = await current_session(request, session)
    if signed_in is not None:
        return secured(see_other(safe_next(request.query.get("next")) or home_for(signed_in.staff.role)))
    return _login_page(request)


@routes.post(LOGIN_PATH)
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    given, expected = form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not (isinstance(given, str) and expected and hmac.compare_digest(given.encode(), expected.encode())):
        return _login_page(request, status=403, error="安全校验未通过（页面已过期），请重新输入后登录")
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:200]
    if not username or not password:
        return _login_page(request, status=422, error="请输入用户名和密码", username=username)
    settings = request.app[SETTINGS]
    async with request.app[SESSIONMAKER]() as session:
        await begin_write(session)
        try:
            token, staff_session = await staff.login(
                session, username=username, password=password, hours=settings.staff_token_hours
            )
        except Unauthorized as exc:
            return _login_page(request, status=401, error=exc.message, username=username)
    target = safe_next(str(form.get("next") or "")) or home_for(staff_session.staff.role)
    response = see_other(target)
    set_session_cookie(response, token, settings)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return secured(response)


@routes.post(PREFIX + "/logout")
@console_view()
async def logout(page: Page) -> web.StreamResponse:
    await staff.logout(page.session, staff_session=page.staff_session)
    response = see_other(LOGIN_PATH)
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@routes.get(PREFIX)
@routes.get(PREFIX + "/")
@console_view()
async def home(page: Page) -> web.StreamResponse:
    return see_other(home_for(page.staff.role))
