"""Event log replay and durable consumer cursors, for the notifier."""

from backend import events
from backend.api import Access, Ctx, RouteTable
from backend.schemas import CursorOut, CursorUpdate, EventList, EventOut, EventQuery

routes = RouteTable(tag="events")


@routes.route(
    "GET",
    "/events",
    summary="按编号顺序重放事件",
    access=Access.SERVICE,
    query=EventQuery,
    response=EventList,
)
async def list_events(ctx: Ctx[None, EventQuery]) -> EventList:
    rows = await events.list_after(ctx.session, ctx.query.after, ctx.query.limit)
    return EventList(events=[EventOut.model_validate(e, from_attributes=True) for e in rows])


@routes.route(
    "GET",
    "/events/cursors/{consumer}",
    summary="消费者已处理到的位置",
    access=Access.SERVICE,
    response=CursorOut,
)
async def get_cursor(ctx: Ctx[None, None]) -> CursorOut:
    consumer = ctx.path("consumer")
    return CursorOut(consumer=consumer, last_id=await events.get_cursor(ctx.session, consumer))


@routes.route(
    "PUT",
    "/events/cursors/{consumer}",
    summary="记录消费者位置（只前进不后退）",
    access=Access.SERVICE,
    body=CursorUpdate,
    response=CursorOut,
)
async def set_cursor(ctx: Ctx[CursorUpdate, None]) -> CursorOut:
    consumer = ctx.path("consumer")
    last_id = await events.set_cursor(ctx.session, consumer[:100], ctx.body.last_id)
    return CursorOut(consumer=consumer, last_id=last_id)
