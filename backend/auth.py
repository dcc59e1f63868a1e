"""Who is calling: one of our own services (maybe acting for an applicant) or a logged-in staff member."""

import hashlib
import hmac
import re
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput, Unauthorized
from backend.models import StaffSession, StaffUser, utcnow
from backend.settings import Settings

# `<channel>:<user id>`; WeChat openids are 28 characters of [A-Za-z0-9_-].
APPLICANT_KEY = re.compile(r"^(wechat|web|miniprogram):[A-Za-z0-9_\-.]{1,128}$")
SESSION_COOKIE = "zzlb_staff"


@dataclass(frozen=True)
class Caller:
    is_service: bool = False
    applicant: str | None = None
    staff: StaffUser | None = None
    session: StaffSession | None = None

    @property
    def identity(self) -> str:
        if self.staff is not None:
            return f"staff:{self.staff.username}"
        if self.applicant is not None:
            return f"applicant:{self.applicant}"
        return "service" if self.is_service else "anonymous"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def identify(request: web.Request, session: AsyncSession, settings: Settings) -> Caller:
    service_key = request.headers.get("X-Service-Key")
    if service_key is not None:
        if not hmac.compare_digest(service_key.encode(), settings.service_key.encode()):
            raise Unauthorized("服务密钥无效")
        applicant = request.headers.get("X-Applicant")
        if applicant is not None and not APPLICANT_KEY.match(applicant):
            raise InvalidInput("X-Applicant 格式应为 渠道:用户标识，例如 wechat:oAbC123", field="X-Applicant")
        return Caller(is_service=True, applicant=applicant)
    token = _bearer(request) or request.cookies.get(SESSION_COOKIE)
    if token:
        staff_session = await session.get(StaffSession, token_hash(token))
        if staff_session is None or staff_session.expires_at < utcnow() or not staff_session.staff.active:
            raise Unauthorized("登录已失效，请重新登录")
        return Caller(staff=staff_session.staff, session=staff_session)
    return Caller()


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
