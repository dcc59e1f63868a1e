"""容缺 reminders: a `commitment.due_soon` notice once per promised material, a few working days before its
deadline. What was sent is recorded (`CommitmentReminder`), so restarts and several backend processes
never send one twice."""

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events
from backend.applications import requirements
from backend.domain import Domain
from backend.models import Application, ApplicationMaterial, CommitmentReminder

# A draft may never be submitted and a refused application needs nothing more.
REMINDED_STATUSES = ("needs_correction", "accepted", "in_review", "completed")


async def send_due_reminders(session: AsyncSession, *, domain: Domain, today: date | None = None) -> int:
    today = today or domain.today()
    horizon = domain.calendar.add_working_days(today, domain.settings.commitment_reminder_working_days)
    rows = (
        await session.execute(
            select(ApplicationMaterial, Application)
            .join(Application, ApplicationMaterial.application_id == Application.id)
            .outerjoin(
                CommitmentReminder,
                and_(
                    CommitmentReminder.material_row_id == ApplicationMaterial.id,
                    CommitmentReminder.deadline == ApplicationMaterial.commitment_deadline,
                ),
            )
            .where(
                ApplicationMaterial.status == "committed",
                ApplicationMaterial.commitment_deadline >= today,
                ApplicationMaterial.commitment_deadline <= horizon,
                CommitmentReminder.id.is_(None),
                Application.status.in_(REMINDED_STATUSES),
            )
            .order_by(ApplicationMaterial.commitment_deadline, ApplicationMaterial.id)
            .limit(500)
        )
    ).all()
    names: dict[int, dict[str, str]] = {}
    sent = 0
    for item, application in rows:
        deadline = item.commitment_deadline
        assert deadline is not None
        try:
            async with session.begin_nested():
                session.add(CommitmentReminder(material_row_id=item.id, deadline=deadline))
                await session.flush()
        except IntegrityError:  # another backend process sent it a moment ago
            continue
        if application.id not in names:
            names[application.id] = {r.material_id: r.name for r in requirements(domain, application)}
        events.record(
            session,
            "commitment.due_soon",
            applicant=application.applicant.key,
            application_code=application.code,
            material_id=item.material_id,
            material_name=names[application.id].get(item.material_id, item.material_id),
            due_date=deadline.isoformat(),
        )
        sent += 1
    await session.commit()
    return sent
