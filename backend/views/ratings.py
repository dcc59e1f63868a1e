"""Satisfaction ratings, posted by the gateway for an applicant."""

from backend import ratings
from backend.api import Access, Ctx, RouteTable
from backend.keys import DOMAIN
from backend.schemas import RatingCreate, RatingOut

routes = RouteTable(tag="ratings")


@routes.route(
    "POST",
    "/ratings",
    summary="评价服务（1–5 分；可关联本人的申请或人工服务）",
    access=Access.APPLICANT,
    body=RatingCreate,
    response=RatingOut,
    status=201,
    idempotent=True,
)
async def create_rating(ctx: Ctx[RatingCreate, None]) -> RatingOut:
    rating = await ratings.create(
        ctx.session,
        applicant_key=ctx.applicant,
        data=ctx.body,
        scale=ctx.request.app[DOMAIN].rating_scale,
    )
    return RatingOut.model_validate(rating, from_attributes=True)
