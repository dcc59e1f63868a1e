"""Human service (帮办代办): an applicant asks for a person, window staff claim the conversation, reply, and
hand it back to the assistant. Each step is an event (the gateway switches modes and delivers replies
from them) and every staff step is audited."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, events
from backend.applications import applicant_for
from backend.domain import Domain
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.models import Applicant, Handoff, HandoffMessage, StaffUser, utcnow
from backend.office_hours import OfficeHours, when_label
from backend.schemas import HandoffCreate, HandoffQuery

REASON_LABELS = {"asked": "要求人工服务", "fallback": "助手两次未能理解", "complaint": "投诉"}
STATUS_LABELS = {"waiting": "等待接入", "claimed": "服务中", "closed": "已结束"}
OPEN = ("waiting", "claimed")
NOT_FOUND_MESSAGE = "未找到该人工服务会话"


@functools.cache
def office_hours(spec: str) -> OfficeHours:
    return OfficeHours.parse(spec)


@dataclass(frozen=True)
class Availability:
    in_office_hours: bool
    message: str
    next_opening: datetime | None


def availability(domain: Domain, *, waiting_before: int = 0, now: datetime | None = None) -> Availability:
    """Whether someone answers now, and the Chinese sentence the applicant reads either way."""
    settings = domain.settings
    hours = office_hours(settings.office_hours)
    local = (now or utcnow()).astimezone(ZoneInfo(settings.timezone))
    if hours.is_open(local, domain.calendar):
        queue = f"前面还有 {waiting_before} 位在等待，" if waiting_before else ""
        message = f"已为您转接人工服务，{queue}工作人员会尽快回复您。"
        return Availability(True, message, None)
    opening = hours.next_opening(local, domain.calendar)
    when = f"将于{when_label(opening, local)}起" if opening else "将在工作时间"
    message = (
        f"现在是非工作时间（人工服务时间：{hours.describe()}）。您的留言已记录，工作人员{when}回复您。"
        f"如有急事，请拨打 {settings.service_hotline} 政务服务便民热线。"
    )
    return Availability(False, message, opening)


# --- applicant side --------------------------------------------------------------------------------------


async def request(
    session: AsyncSession, *, domain: Domain, applicant_key: str, data: HandoffCreate
) -> tuple[Handoff, bool]:
    """The applicant's open handoff, or a new one; the flag says whether it was created now."""
    applicant = await applicant_for(session, applicant_key)
    # Serialise one person's requests (PostgreSQL; SQLite writers are serial anyway): two taps on
    # "人工服务" must not queue them twice. The partial unique index is the last line of defence.
    await session.execute(select(Applicant.id).where(Applicant.id == applicant.id).with_for_update())
    existing = await _open_for(session, applicant.id)
    if existing is not None:
        return existing, False
    handoff = Handoff(
        applicant_id=applicant.id, reason=data.reason, note=data.note, status="waiting", messages=[]
    )
    session.add(handoff)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        existing = await _open_for(session, applicant.id)
        if existing is None:
            raise
        return existing, False
    events.record(
        session,
        "handoff.requested",
        applicant=applicant_key,
        handoff_id=handoff.id,
        reason=data.reason,
        reason_label=REASON_LABELS[data.reason],
        note=data.note,
        in_office_hours=availability(domain).in_office_hours,
    )
    await session.commit()
    return handoff, True


async def _open_for(session: AsyncSession, applicant_id: int) -> Handoff | None:
    return await session.scalar(
        select(Handoff).where(Handoff.applicant_id == applicant_id, Handoff.status.in_(OPEN)).limit(1)
    )


async def current(session: AsyncSession, *, applicant_key: str) -> Handoff:
    handoff = await session.scalar(
        select(Handoff)
        .join(Applicant, Handoff.applicant_id == Applicant.id)
        .where(Applicant.key == applicant_key, Handoff.status.in_(OPEN))
        .limit(1)
    )
    if handoff is None:
        raise NotFound("当前没有进行中的人工服务", code="no_open_handoff")
    return handoff


async def waiting_before(session: AsyncSession, handoff: Handoff) -> int:
    if handoff.status != "waiting":
        return 0
    count = await session.scalar(
        select(func.count())
        .select_from(Handoff)
        .where(Handoff.status == "waiting", Handoff.created_at < handoff.created_at)
    )
    return int(count or 0)


async def own(
    session: AsyncSession, *, applicant_key: str, handoff_id: int, for_update: bool = False
) -> Handoff:
    """Another applicant's handoff answers exactly like a missing one."""
    query = (
        select(Handoff)
        .join(Applicant, Handoff.applicant_id == Applicant.id)
        .where(Handoff.id == handoff_id, Applicant.key == applicant_key)
    )
    if for_update:
        query = query.with_for_update(of=Handoff)
    handoff = await session.scalar(query)
    if handoff is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return handoff


async def post_applicant_message(
    session: AsyncSession, *, applicant_key: str, handoff_id: int, text: str
) -> HandoffMessage:
    handoff = await own(session, applicant_key=applicant_key, handoff_id=handoff_id, for_update=True)
    if handoff.status == "closed":
        raise Conflict("本次人工服务已结束", code="handoff_closed")
    message = HandoffMessage(handoff_id=handoff.id, sender="applicant", text=_clean(text))
    session.add(message)
    await session.commit()
    return message


async def close_by_applicant(session: AsyncSession, *, applicant_key: str, handoff_id: int) -> Handoff:
    """The person left human mode (an exit word in chat). Closing twice is harmless: the gateway may
    retry, and staff may have closed it a moment earlier."""
    handoff = await own(session, applicant_key=applicant_key, handoff_id=handoff_id, for_update=True)
    if handoff.status == "closed":
        return handoff
    _close(session, handoff, staff_name=None, closed_by="applicant")
    audit.record(
        session,
        actor=f"applicant:{applicant_key}",
        action="handoff.close",
        target=f"handoff:{handoff.id}",
        applicant=applicant_key,
        was_claimed_by=handoff.claimed_by,
    )
    await session.commit()
    return handoff


def _clean(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("消息内容不能为空", field="body.text")
    return cleaned


# --- staff side --------------------------------------------------------------------------------------------


async def get(session: AsyncSession, handoff_id: int, *, for_update: bool = False) -> Handoff:
    query = select(Handoff).where(Handoff.id == handoff_id)
    if for_update:
        query = query.with_for_update(of=Handoff).execution_options(populate_existing=True)
    handoff = await session.scalar(query)
    if handoff is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return handoff


def queue_query(query: HandoffQuery) -> Select[Handoff]:
    stmt = select(Handoff)
    if query.status is None:
        stmt = stmt.where(Handoff.status.in_(OPEN))
    else:
        stmt = stmt.where(Handoff.status == query.status)
    if query.status == "closed":
        # The most recent first; waiting ones in the order they came (who waited longest is served first).
        return stmt.order_by(Handoff.closed_at.desc(), Handoff.id.desc()).limit(query.limit)
    return stmt.order_by(Handoff.status != "waiting", Handoff.created_at, Handoff.id).limit(query.limit)


async def queue(session: AsyncSession, query: HandoffQuery) -> list[Handoff]:
    return list(await session.scalars(queue_query(query)))


async def staff_names(session: AsyncSession, ids: set[int]) -> dict[int, StaffUser]:
    if not ids:
        return {}
    rows = await session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
    return {user.id: user for user in rows}


async def claim(session: AsyncSession, *, staff: StaffUser, handoff_id: int) -> Handoff:
    handoff = await get(session, handoff_id, for_update=True)
    if handoff.status == "closed":
        raise Conflict("该会话已结束", code="handoff_closed")
    if handoff.status == "claimed":
        if handoff.claimed_by == staff.id:
            return handoff
        other = (await staff_names(session, {handoff.claimed_by or 0})).get(handoff.claimed_by or 0)
        name = other.display_name if other else "其他工作人员"
        raise Conflict(f"该会话已由{name}接待", code="already_claimed")
    handoff.status = "claimed"
    handoff.claimed_by = staff.id
    handoff.claimed_at = utcnow()
    events.record(
        session,
        "handoff.claimed",
        applicant=handoff.applicant.key,
        handoff_id=handoff.id,
        staff_name=staff.display_name,
    )
    _audit(session, staff, "handoff.claim", handoff, reason=handoff.reason)
    await session.commit()
    return handoff


def _check_may_act(staff: StaffUser, handoff: Handoff, *, waiting_ok: bool) -> None:
    if handoff.status == "closed":
        raise Conflict("该会话已结束", code="handoff_closed")
    if handoff.status == "waiting":
        if not waiting_ok:
            raise Conflict("请先接入该会话再回复", code="not_claimed")
        return
    if handoff.claimed_by != staff.id and staff.role != "admin":
        raise Forbidden("该会话由其他工作人员接待，只有接待人员或管理员可以操作")


async def post_staff_message(
    session: AsyncSession, *, staff: StaffUser, handoff_id: int, text: str
) -> HandoffMessage:
    handoff = await get(session, handoff_id, for_update=True)
    _check_may_act(staff, handoff, waiting_ok=False)
    cleaned = _clean(text)
    message = HandoffMessage(handoff_id=handoff.id, sender="staff", staff_id=staff.id, text=cleaned)
    session.add(message)
    await session.flush()
    events.record(
        session,
        "handoff.message",
        applicant=handoff.applicant.key,
        handoff_id=handoff.id,
        text=cleaned,
        staff_name=staff.display_name,
    )
    _audit(session, staff, "handoff.message", handoff, message_id=message.id, length=len(cleaned))
    await session.commit()
    return message


async def close(session: AsyncSession, *, staff: StaffUser, handoff_id: int) -> Handoff:
    """Hand the conversation back to the assistant (a waiting one may be closed by any agent)."""
    handoff = await get(session, handoff_id, for_update=True)
    _check_may_act(staff, handoff, waiting_ok=True)
    _close(session, handoff, staff_name=staff.display_name, closed_by="staff")
    _audit(session, staff, "handoff.close", handoff, was_claimed_by=handoff.claimed_by)
    await session.commit()
    return handoff


def _close(session: AsyncSession, handoff: Handoff, *, staff_name: str | None, closed_by: str) -> None:
    handoff.status = "closed"
    handoff.closed_at = utcnow()
    events.record(
        session,
        "handoff.closed",
        applicant=handoff.applicant.key,
        handoff_id=handoff.id,
        staff_name=staff_name,
        closed_by=closed_by,
        # Whether a person took the conversation: only then is there a service to rate.
        served=handoff.claimed_by is not None,
    )


def _audit(session: AsyncSession, staff: StaffUser, action: str, handoff: Handoff, **detail: object) -> None:
    audit.record(
        session,
        actor=f"staff:{staff.username}",
        action=action,
        target=f"handoff:{handoff.id}",
        applicant=handoff.applicant.key,
        **detail,
    )


async def close_idle(session: AsyncSession, *, idle: timedelta, now: datetime | None = None) -> int:
    """Close claimed conversations nobody wrote in for `idle` (staff forgot to hand back; the gateway has
    already returned the person to the assistant). Waiting ones stay: out of hours they wait on purpose."""
    cutoff = (now or utcnow()) - idle
    last_message = (
        select(HandoffMessage.handoff_id, func.max(HandoffMessage.created_at).label("at"))
        .group_by(HandoffMessage.handoff_id)
        .subquery()
    )
    stale = list(
        await session.scalars(
            select(Handoff)
            .outerjoin(last_message, last_message.c.handoff_id == Handoff.id)
            .where(
                Handoff.status == "claimed",
                Handoff.claimed_at < cutoff,
                (last_message.c.at.is_(None)) | (last_message.c.at < cutoff),
            )
            .with_for_update(of=Handoff)
        )
    )
    for handoff in stale:
        _close(session, handoff, staff_name=None, closed_by="idle")
        audit.record(
            session,
            actor="system",
            action="handoff.close_idle",
            target=f"handoff:{handoff.id}",
            applicant=handoff.applicant.key,
        )
    await session.commit()
    return len(stale)
