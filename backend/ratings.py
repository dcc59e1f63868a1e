"""Satisfaction ratings (好差评): an applicant scores the service, an application or a human conversation."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import applications, events, handoffs
from backend.applications import applicant_for
from backend.errors import Conflict
from backend.models import Rating
from backend.rating_scale import SCORES
from backend.schemas import RatingCreate


async def create(
    session: AsyncSession, *, applicant_key: str, data: RatingCreate, scale: Mapping[int, str]
) -> Rating:
    """`scale`: the names of the scores (Domain.rating_scale)."""
    applicant = await applicant_for(session, applicant_key)
    code = None
    if data.application_code is not None:
        application = await applications.get_for_applicant(
            session, applicant_key=applicant_key, code=data.application_code
        )
        code = application.code
    if data.handoff_id is not None:
        await handoffs.own(session, applicant_key=applicant_key, handoff_id=data.handoff_id)
    # One rating per application and per conversation, so a few repeats cannot skew the figures.
    for column, value in ((Rating.application_code, code), (Rating.handoff_id, data.handoff_id)):
        if value is not None and await session.scalar(
            select(Rating.id).where(Rating.applicant_id == applicant.id, column == value).limit(1)
        ):
            raise Conflict("您已经评价过了，感谢您的反馈", code="already_rated")
    comment = data.comment.strip() if data.comment else None
    rating = Rating(
        applicant_id=applicant.id,
        score=data.score,
        comment=comment or None,
        application_code=code,
        handoff_id=data.handoff_id,
    )
    session.add(rating)
    await session.flush()
    events.record(
        session,
        "rating.created",
        applicant=applicant_key,
        application_code=code,
        rating_id=rating.id,
        score=data.score,
        score_label=scale[data.score],
        comment=rating.comment,
        handoff_id=data.handoff_id,
    )
    await session.commit()
    return rating


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    by_score: dict[int, int]
    recent: list[Rating]


async def summary(session: AsyncSession, *, recent: int = 10) -> RatingSummary:
    rows = (await session.execute(select(Rating.score, func.count()).group_by(Rating.score))).all()
    by_score = dict.fromkeys(SCORES, 0)
    for score, count in rows:
        by_score[int(score)] = int(count)
    total = sum(by_score.values())
    average = sum(s * c for s, c in by_score.items()) / total if total else None
    latest = list(
        await session.scalars(
            select(Rating).where(Rating.comment.is_not(None)).order_by(Rating.id.desc()).limit(recent)
        )
    )
    return RatingSummary(total, average, by_score, latest)
