"""Staff accounts (window agents, department reviewers, admins): argon2 passwords, sessions, lockout."""

import logging
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth import token_hash
from backend.domain import Domain
from backend.errors import Conflict, InvalidInput, Unauthorized
from backend.models import StaffSession, StaffUser, utcnow
from backend.schemas import StaffCreate

log = logging.getLogger(__name__)
hasher = PasswordHasher()
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
ROLE_LABELS = {"agent": "窗口帮办人员", "reviewer": "部门审批人员", "admin": "管理员"}
# Verifying against a fixed hash when the user does not exist keeps the timing of both answers alike.
_DUMMY_HASH = hasher.hash("not-a-real-password")


async def create_staff(session: AsyncSession, *, domain: Domain, data: StaffCreate, actor: str) -> StaffUser:
    if data.role == "reviewer":
        if data.department_id not in domain.catalog.departments:
            raise InvalidInput("审批人员必须绑定一个有效的部门", field="body.department_id")
    elif data.department_id is not None:
        raise InvalidInput("只有审批人员需要绑定部门", field="body.department_id")
    user = StaffUser(
        username=data.username,
        display_name=data.display_name,
        password_hash=hasher.hash(data.password),
        role=data.role,
        department_id=data.department_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("该用户名已存在", field="body.username") from exc
    audit.record(
        session,
        actor=actor,
        action="staff.create",
        target=f"staff:{user.username}",
        role=data.role,
        department_id=data.department_id,
    )
    await session.commit()
    return user


async def login(
    session: AsyncSession, *, username: str, password: str, hours: int
) -> tuple[str, StaffSession]:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    now = utcnow()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise Unauthorized("用户名或密码错误")
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthorized("登录失败次数过多，账号已暂时锁定，请 15 分钟后再试", code="locked")
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit.record(
                session, actor=f"staff:{username}", action="staff.locked", target=f"staff:{username}"
            )
        await session.commit()
        raise Unauthorized("用户名或密码错误")
    user.failed_logins = 0
    user.locked_until = None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    token = secrets.token_urlsafe(32)
    staff_session = StaffSession(
        token_hash=token_hash(token),
        staff_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        expires_at=now + timedelta(hours=hours),
    )
    session.add(staff_session)
    audit.record(session, actor=f"staff:{username}", action="staff.login", target=f"staff:{username}")
    await session.commit()
    await session.refresh(staff_session, ["staff"])
    return token, staff_session


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def logout(session: AsyncSession, *, staff_session: StaffSession) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == staff_session.token_hash))
    await session.commit()


async def list_staff(session: AsyncSession) -> list[StaffUser]:
    return list(await session.scalars(select(StaffUser).order_by(StaffUser.id)))


async def ensure_admin(session: AsyncSession, *, username: str, password: str | None) -> None:
    """The first admin comes from the environment on first start; an existing account is never touched."""
    if await session.scalar(select(StaffUser.id).where(StaffUser.role == "admin").limit(1)) is not None:
        return
    if not password:
        log.warning("no admin account yet: set ADMIN_PASSWORD to create '%s' on start", username)
        return
    session.add(
        StaffUser(username=username, display_name="管理员", password_hash=hasher.hash(password), role="admin")
    )
    audit.record(session, actor="system", action="staff.create", target=f"staff:{username}", role="admin")
    await session.commit()
    log.info("created the first admin account '%s'", username)
