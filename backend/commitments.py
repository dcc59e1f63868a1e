"""容缺 (materials promised for later) after acceptance: a `commitment.due_soon` reminder a few working days
before the deadline, a `commitment.overdue` notice once it has passed undelivered, and what reviewers and
staff see of it (overdue promises, materials delivered since the reviewer last looked).

Each notice is sent once per material and deadline: what was sent is recorded (`CommitmentReminder`,
`CommitmentOverdue`), so restarts and several backend processes never send one twice."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, events
from backend.applications import requirements
from backend.domain import Domain
from backend.models import (
    Application,
    ApplicationMaterial,
    CommitmentOverdue,
    CommitmentReminder,
    DepartmentTask,
    StaffUser,
    utcnow,
)

# A draft may never be submitted and a refused application needs nothing more.
REMINDED_STATUSES = ("needs_correction", "accepted", "in_review", "completed")
BATCH = 500


async def send_due_reminders(session: AsyncSession, *, domain: Domain, today: date | None = None) -> int:
    """Once per material whose deadline is within the reminder window: a `commitment.due_soon` notice."""
    today = today or domain.today()
    horizon = domain.calendar.add_working_days(today, domain.settings.commitment_reminder_working_days)
    window = (
        ApplicationMaterial.commitment_deadline >= today,
        ApplicationMaterial.commitment_deadline <= horizon,
    )
    return await _notify_once(session, domain, CommitmentReminder, "commitment.due_soon", window)


async def send_overdue_notices(session: AsyncSession, *, domain: Domain, today: date | None = None) -> int:
    """Once per material whose deadline has passed without it: a polite notice for the applicant (what,
    due when, how to hand it in now). Staff see the same in the console (`overdue_materials`)."""
    today = today or domain.today()
    window = (ApplicationMaterial.commitment_deadline < today,)
    return await _notify_once(session, domain, CommitmentOverdue, "commitment.overdue", window)


async def _notify_once(
    session: AsyncSession,
    domain: Domain,
    mark: type[CommitmentReminder] | type[CommitmentOverdue],
    event: str,
    window: tuple[ColumnElement[bool], ...],
) -> int:
    """Record `event` for each promised material whose deadline is in `window` and that has no `mark` for
    that deadline yet; the mark is written first, so each notice goes out once."""
    rows = (
        await session.execute(
            select(ApplicationMaterial, Application)
            .join(Application, ApplicationMaterial.application_id == Application.id)
            .outerjoin(
                mark,
                and_(
                    mark.material_row_id == ApplicationMaterial.id,
                    mark.deadline == ApplicationMaterial.commitment_deadline,
                ),
            )
            .where(
                ApplicationMaterial.status == "committed",
                *window,
                mark.id.is_(None),
                Application.status.in_(REMINDED_STATUSES),
            )
            .order_by(ApplicationMaterial.commitment_deadline, ApplicationMaterial.id)
            .limit(BATCH)
        )
    ).all()
    sent = 0
    names = _Names(domain)
    for item, application in rows:
        deadline = item.commitment_deadline
        assert deadline is not None
        if not await _first(session, mark(material_row_id=item.id, deadline=deadline)):
            continue
        events.record(
            session,
            event,
            applicant=application.applicant.key,
            application_code=application.code,
            material_id=item.material_id,
            material_name=names.of(application, item.material_id),
            due_date=deadline.isoformat(),
        )
        sent += 1
    await session.commit()
    return sent


async def _first(session: AsyncSession, sent: CommitmentReminder | CommitmentOverdue) -> bool:
    """Record a notice as sent; False when another backend process sent it a moment ago."""
    try:
        async with session.begin_nested():
            session.add(sent)
            await session.flush()
    except IntegrityError:
        return False
    return True


class _Names:
    """Material names per application, worked out once per job round."""

    def __init__(self, domain: Domain) -> None:
        self._domain = domain
        self._names: dict[int, dict[str, str]] = {}

    def of(self, application: Application, material_id: str) -> str:
        if application.id not in self._names:
            self._names[application.id] = {
                r.material_id: r.name for r in requirements(self._domain, application)
            }
        return self._names[application.id].get(material_id, material_id)


# --- what staff see ----------------------------------------------------------------------------------------


def is_overdue(item: ApplicationMaterial, today: date) -> bool:
    """Promised for later and not delivered by its deadline."""
    return (
        item.status == "committed"
        and item.commitment_deadline is not None
        and item.commitment_deadline < today
    )


@dataclass(frozen=True)
class ReviewNews:
    """For one task: the 容缺 materials overdue, and those delivered since its reviewers last looked."""

    overdue: list[str]  # material ids
    delivered: list[str]


def review_news(domain: Domain, application: Application, task: DepartmentTask, today: date) -> ReviewNews:
    overdue = [m for m in application.materials if is_overdue(m, today)]
    seen = _last_look(task)
    delivered = [
        m
        for m in application.materials
        if m.delivered_at is not None and (seen is None or m.delivered_at > seen)
    ]
    if delivered:  # only then is the checklist worked out: the review queue lists many tasks
        needed = {r.material_id: r.needed_by for r in requirements(domain, application)}
        # Lifecycle materials (变更 / 注销) name no matter: every task needs them.
        delivered = [
            m for m in delivered if not needed.get(m.material_id) or task.matter_id in needed[m.material_id]
        ]
    return ReviewNews([m.material_id for m in overdue], [m.material_id for m in delivered])


def _last_look(task: DepartmentTask) -> datetime | None:
    """A decision is made looking at the materials; so is marking them seen."""
    looks = [t for t in (task.decided_at, task.materials_seen_at) if t is not None]
    return max(looks) if looks else None


async def mark_seen(
    session: AsyncSession, *, staff: StaffUser, task: DepartmentTask, application_code: str
) -> None:
    task.materials_seen_at = utcnow()
    audit.record(
        session,
        actor=f"staff:{staff.username}",
        action="task.materials_seen",
        target=f"task:{task.id}",
        application_code=application_code,
    )
    await session.commit()
