"""Deactivating and reactivating staff accounts (creation is `backend.staff.create_staff`)."""

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.errors import InvalidState, NotFound
from backend.models import StaffSession, StaffUser


async def set_active(session: AsyncSession, *, actor: StaffUser, staff_id: int, active: bool) -> StaffUser:
    user = await session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("未找到该账号")
    if user.active == active:
        return user
    if not active:
        if user.id == actor.id:
            raise InvalidState("不能停用自己正在使用的账号")
        if user.role == "admin":
            admins = await session.scalar(
                select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", StaffUser.active)
            )
            if (admins or 0) <= 1:
                raise InvalidState("至少要保留一个启用的管理员账号")
        # Signed out everywhere at once, not when their sessions happen to expire.
        await session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        session,
        actor=f"staff:{actor.username}",
        action="staff.activate" if active else "staff.deactivate",
        target=f"staff:{user.username}",
        role=user.role,
    )
    await session.commit()
    return user
