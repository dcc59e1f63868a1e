"""What every console page shares: the staff session from the `zzlb_staff` cookie, role checks, CSRF
checks on every form, rendering with the layout, and flash messages across a redirect.

The cookie is scoped to `/console`, so a browser never sends it to `/api/v1`: the JSON API stays
bearer-token only from a browser's point of view, and every state change a cookie can cause goes through
the console's own CSRF-checked forms.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api import error_response
from backend.auth import SESSION_COOKIE, token_hash
from backend.db import begin_write
from backend.domain import Domain
from backend.errors import ApiError
from backend.keys import DOMAIN, SESSIONMAKER, SETTINGS
from backend.models import StaffSession, StaffUser, utcnow
from backend.settings import Settings
from backend.staff import ROLE_LABELS

PREFIX = "/console"
LOGIN_PATH = PREFIX + "/login"
STATIC_PATH = PREFIX + "/static"
PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
FLASH_COOKIE = "zzlb_flash"
LOGIN_CSRF_COOKIE = "zzlb_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CHANNEL_LABELS = {"wechat": "公众号", "miniprogram": "小程序", "web": "网页"}
# Same-origin only; inline style attributes are allowed for the chart bars' widths, never inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Form = MultiDictProxy[Any]


@dataclass
class Page:
    """One console request: who is asking, a database session, and the submitted form (POST)."""

    request: web.Request
    session: AsyncSession
    staff: StaffUser
    staff_session: StaffSession
    form: Form | None = None
    _flash: dict[str, str] | None = field(default=None)

    @property
    def domain(self) -> Domain:
        return self.request.app[DOMAIN]

    @property
    def settings(self) -> Settings:
        return self.request.app[SETTINGS]

    @property
    def actor(self) -> str:
        return f"staff:{self.staff.username}"

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def render(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        html = (
            templates()
            .get_template(template)
            .render(
                staff=self.staff,
                role_label=ROLE_LABELS.get(self.staff.role, self.staff.role),
                csrf_token=self.staff_session.csrf_token,
                timezone=self.settings.timezone,
                path=self.request.path,
                flash=read_flash(self.request),
                **context,
            )
        )
        response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
        if FLASH_COOKIE in self.request.cookies:
            response.del_cookie(FLASH_COOKIE, path=PREFIX)
        return response

    def redirect(self, location: str, *, ok: str | None = None, error: str | None = None) -> web.Response:
        response = see_other(location)
        if ok or error:
            set_flash(response, "error" if error else "ok", error or ok or "")
        return response


ConsoleHandler = Callable[[Page], Awaitable[web.StreamResponse]]


def console_view(
    *roles: str, api: bool = False
) -> Callable[[ConsoleHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Wrap a console handler: identify the staff member by cookie (anonymous: to the login page, or
    401 for `api` endpoints), check the role (403), and on POST check the CSRF token (403)."""

    def wrap(handler: ConsoleHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def view(request: web.Request) -> web.StreamResponse:
            writes = request.method not in ("GET", "HEAD")
            form = await request.post() if writes else None
            async with request.app[SESSIONMAKER]() as session:
                if writes:
                    await begin_write(session)
                found = await current_session(request, session)
                if found is None:
                    return _anonymous(request, api=api)
                staff_session = found
                page = Page(request, session, staff_session.staff, staff_session, form)
                if roles and page.staff.role not in roles:
                    return _refuse(page, api, 403, "您的账号没有权限访问此页面")
                if writes and not csrf_ok(request, form, staff_session.csrf_token):
                    return _refuse(page, api, 403, "安全校验未通过（表单已过期），请刷新页面后重试")
                try:
                    response = await handler(page)
                except ApiError as exc:
                    return _refuse(page, api, exc.status, exc.message, code=exc.code)
            return secured(response)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


async def current_session(request: web.Request, session: AsyncSession) -> StaffSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    staff_session = await session.get(StaffSession, token_hash(token))
    if staff_session is None or staff_session.expires_at < utcnow() or not staff_session.staff.active:
        return None
    return staff_session


def csrf_ok(request: web.Request, form: Form | None, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None)
    return isinstance(given, str) and bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _anonymous(request: web.Request, *, api: bool) -> web.StreamResponse:
    if api:
        return secured(error_response(401, "unauthorized", "请先登录"))
    target = request.path_qs if request.method == "GET" else PREFIX + "/"
    response = see_other(LOGIN_PATH + "?" + urlencode({"next": target}))
    if SESSION_COOKIE in request.cookies:  # expired or revoked: forget it
        response.del_cookie(SESSION_COOKIE, path=PREFIX)
    return secured(response)


def _refuse(page: Page, api: bool, status: int, message: str, code: str = "forbidden") -> web.StreamResponse:
    if api:
        return secured(error_response(status, code, message))
    return secured(page.render("error.html", status=status, message=message, status_code=status))


def see_other(location: str) -> web.Response:
    # A plain response: returning (not raising) an HTTPException is deprecated in aiohttp.
    return web.Response(status=303, headers={"Location": location})


def secured(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# --- cookies --------------------------------------------------------------------------------------------


def secure_cookies(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def set_session_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(settings),
        max_age=settings.staff_token_hours * 3600,
    )


def set_flash(response: web.StreamResponse, kind: str, text: str) -> None:
    value = quote(json.dumps({"kind": kind, "text": text[:300]}, ensure_ascii=False), safe="")
    response.set_cookie(FLASH_COOKIE, value, path=PREFIX, httponly=True, samesite="Lax", max_age=60)


def read_flash(request: web.Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("ok", "error"):
        return None
    return {"kind": str(data["kind"]), "text": str(data.get("text", ""))}


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


# --- templates --------------------------------------------------------------------------------------------


@cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local_time=local_time, duration=duration, applicant=applicant_label, cn_date=cn_date)
    env.globals.update(static=static_url, role_labels=ROLE_LABELS)
    return env


@cache
def static_url(name: str) -> str:
    # Versioned by content, so a new deployment is never served a stale script from a browser cache.
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_PATH}/{name}?v={digest}"


@jinja2.pass_context
def local_time(context: jinja2.runtime.Context, value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """In the service centre's time zone (the page's `timezone`)."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(context.get("timezone") or "Asia/Shanghai")).strftime(fmt)


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def duration(seconds: float | int | None) -> str:
    if seconds is None:
        return "—"
    total = int(seconds)
    if total < 60:
        return f"{total} 秒"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时 {minutes} 分"
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时"


def applicant_label(key: str) -> str:
    """`wechat:oAbC…xyz123` → `公众号用户 …xyz123`: enough to tell people apart, not the whole openid."""
    channel, _, user = key.partition(":")
    return f"{CHANNEL_LABELS.get(channel, channel)}用户 …{user[-6:]}"
