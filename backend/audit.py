"""Audit log: every staff decision and every read of an applicant's material."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEntry


def record(session: AsyncSession, *, actor: str, action: str, target: str, **detail: Any) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


async def entries(session: AsyncSession, *, target: str | None, limit: int) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target is not None:
        stmt = stmt.where(AuditEntry.target == target)
    return list(await session.scalars(stmt))
