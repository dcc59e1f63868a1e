"""Figures for the managers' overview: applications by status, processing time against the promised time
per matter, overdue tasks, waiting for a person, and satisfaction. Read-only queries, bounded in size."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import handoffs, ratings
from backend.applications import STATUS_LABELS, department_name, licence_name
from backend.domain import Domain
from backend.models import Application, DepartmentTask, Handoff, utcnow
from backend.tasks import OPEN_FOR_DECISION

RECENT_DAYS = 30
MAX_DECIDED = 2000
WAIT_BUCKETS = (
    (60, "1 分钟内"),
    (300, "1–5 分钟"),
    (900, "5–15 分钟"),
    (3600, "15–60 分钟"),
    (None, "1 小时以上"),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str
    percent: float  # of the chart's largest value, for the bar's width
    tone: str = ""


def bars(items: list[tuple[str, float, str, str]]) -> list[Bar]:
    top = max((value for _, value, _, _ in items), default=0) or 1
    # A non-zero value always shows a sliver of bar; zero shows none.
    return [
        Bar(label, value, shown, max(1.5, round(100 * value / top, 1)) if value else 0.0, tone)
        for label, value, shown, tone in items
    ]


@dataclass(frozen=True)
class MatterTime:
    licence_name: str  # with the matter's name when another matter issues a licence of the same name
    department: str
    promised_days: int
    legal_days: int
    decided: int
    average_days: float
    slowest_days: int
    late: int  # decided after the promised time

    def percent(self, days: float, scale: float) -> float:
        return round(100 * days / scale, 1) if scale else 0


@dataclass(frozen=True)
class OverdueTask:
    task_id: int
    application_code: str
    licence_name: str
    department: str
    due_date: date
    working_days_late: int


@dataclass(frozen=True)
class Waits:
    """Waiting for a person over the last RECENT_DAYS days, in seconds."""

    waiting_now: int
    longest_now: int | None
    answered: int
    average: float | None
    median: float | None
    p90: float | None
    buckets: list[Bar]
    by_reason: list[Bar]


@dataclass(frozen=True)
class Overview:
    applications: list[Bar]
    applications_total: int
    processing: list[MatterTime]
    processing_scale: float
    overdue: list[OverdueTask]
    overdue_by_department: list[Bar]
    waits: Waits
    rating: ratings.RatingSummary
    rating_bars: list[Bar]


def working_days_between(domain: Domain, start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when decided on the day it started)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if domain.calendar.is_working_day(day):
            count += 1
    return count


async def build(session: AsyncSession, domain: Domain, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    today = domain.today()
    status_counts = dict(
        (await session.execute(select(Application.status, func.count()).group_by(Application.status))).all()
    )
    applications = bars(
        [
            (label, status_counts.get(status, 0), str(status_counts.get(status, 0)), status)
            for status, label in STATUS_LABELS.items()
            if status_counts.get(status, 0) or status != "cancelled"
        ]
    )
    processing, scale = await _processing(session, domain)
    overdue, by_department = await _overdue(session, domain, today)
    summary = await ratings.summary(session)
    return Overview(
        applications=applications,
        applications_total=sum(status_counts.values()),
        processing=processing,
        processing_scale=scale,
        overdue=overdue,
        overdue_by_department=by_department,
        waits=await _waits(session, now),
        rating=summary,
        rating_bars=bars(
            [
                (
                    f"{score} 分 {domain.rating_scale[score]}",
                    count,
                    str(count),
                    "good" if score >= 4 else "bad" if score <= 2 else "",
                )
                for score, count in sorted(summary.by_score.items(), reverse=True)
            ]
        ),
    )


async def _processing(session: AsyncSession, domain: Domain) -> tuple[list[MatterTime], float]:
    rows = await session.execute(
        select(DepartmentTask.matter_id, DepartmentTask.started_on, DepartmentTask.decided_at)
        .where(
            DepartmentTask.status.in_(("approved", "rejected")),
            DepartmentTask.started_on.is_not(None),
            DepartmentTask.decided_at.is_not(None),
        )
        .order_by(DepartmentTask.id.desc())
        .limit(MAX_DECIDED)
    )
    zone = ZoneInfo(domain.settings.timezone)
    # Several matters issue a licence of the same name (食品经营许可证 for 餐饮服务, 食品销售 and 商场超市):
    # their rows are told apart by the matter, since they share a department too.
    issued = Counter(m.licence_name for m in domain.catalog.matters.values())
    taken: dict[str, list[int]] = {}
    for matter_id, started, decided in rows:
        if started is None or decided is None:
            continue
        taken.setdefault(matter_id, []).append(
            working_days_between(domain, started, decided.astimezone(zone).date())
        )
    result = []
    for matter_id, days in sorted(taken.items()):
        matter = domain.catalog.matters.get(matter_id)
        promised = matter.promised_days if matter else 0
        name = licence_name(domain, matter_id)
        result.append(
            MatterTime(
                licence_name=f"{name}（{matter.name}）" if matter and issued[name] > 1 else name,
                department=department_name(domain, matter.department_id) if matter else "",
                promised_days=promised,
                legal_days=matter.legal_days if matter else 0,
                decided=len(days),
                average_days=round(sum(days) / len(days), 1),
                slowest_days=max(days),
                late=sum(1 for d in days if d > promised),
            )
        )
    scale = max([m.slowest_days for m in result] + [m.promised_days for m in result] + [1])
    return result, float(scale)


async def _overdue(session: AsyncSession, domain: Domain, today: date) -> tuple[list[OverdueTask], list[Bar]]:
    rows = await session.execute(
        select(DepartmentTask, Application.code)
        .join(Application, DepartmentTask.application_id == Application.id)
        .where(DepartmentTask.status.in_(OPEN_FOR_DECISION), DepartmentTask.due_date < today)
        .order_by(DepartmentTask.due_date, DepartmentTask.id)
        .limit(500)
    )
    overdue = [
        OverdueTask(
            task_id=task.id,
            application_code=code,
            licence_name=licence_name(domain, task.matter_id),
            department=department_name(domain, task.department_id),
            due_date=task.due_date,
            working_days_late=working_days_between(domain, task.due_date, today),
        )
        for task, code in rows
        if task.due_date is not None
    ]
    per_department = Counter(t.department for t in overdue)
    return overdue, bars([(name, n, f"{n} 件", "bad") for name, n in per_department.most_common()])


async def _waits(session: AsyncSession, now: datetime) -> Waits:
    since = now - timedelta(days=RECENT_DAYS)
    rows = list(
        await session.execute(
            select(Handoff.status, Handoff.reason, Handoff.created_at, Handoff.claimed_at).where(
                Handoff.created_at >= since
            )
        )
    )
    current = [int((now - created).total_seconds()) for status, _, created, _ in rows if status == "waiting"]
    answered = sorted(
        int((claimed - created).total_seconds()) for _, _, created, claimed in rows if claimed is not None
    )
    buckets: Counter[str] = Counter()
    for seconds in answered:
        buckets[next(label for limit, label in WAIT_BUCKETS if limit is None or seconds < limit)] += 1
    reasons = Counter(reason for _, reason, _, _ in rows)
    return Waits(
        waiting_now=len(current),
        longest_now=max(current) if current else None,
        answered=len(answered),
        average=statistics.fmean(answered) if answered else None,
        median=statistics.median(answered) if answered else None,
        p90=answered[min(len(answered) - 1, int(0.9 * len(answered)))] if answered else None,
        buckets=bars([(label, buckets[label], f"{buckets[label]} 次", "") for _, label in WAIT_BUCKETS]),
        by_reason=bars(
            [
                (label, reasons[reason], f"{reasons[reason]} 次", "bad" if reason == "complaint" else "")
                for reason, label in handoffs.REASON_LABELS.items()
            ]
        ),
    )
