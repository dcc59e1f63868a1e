"""Applicant-side endpoints: a service (gateway / action server) acting for one applicant; and the
one-time notice picture under a signed, expiring public URL (`/n/<token>/notice.png`, outside /api/v1)."""

import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend import applications, files, licences, notice
from backend.api import Access, Ctx, RouteTable
from backend.domain import Domain
from backend.errors import NotFound
from backend.keys import DOMAIN, PICTURES, SESSIONMAKER, SETTINGS
from backend.materials import tokens
from backend.materials.render import render_notice_text
from backend.models import Application
from backend.representations import application_out, licence_out, material_file
from backend.schemas import (
    ApplicationCreate,
    ApplicationList,
    ApplicationOut,
    ApplicationUpdate,
    ChecklistNoticeCreate,
    CommitmentCreate,
    CommitmentOut,
    LicenceList,
    LicenceOut,
    MaterialAttach,
    NoticeLink,
)

routes = RouteTable(tag="applications")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_PUBLIC = {
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}
LINK_EXPIRED = "这个告知单链接已失效。请在对话中回复“还缺什么材料”或“材料清单”，重新获取最新的告知单。"
# A checklist's notice shows the catalog, not a person's progress: a browser may keep it a while.
CHECKLIST_MAX_AGE = 3600


async def application_view(
    session: AsyncSession, domain: Domain, application: Application, *, subject: str
) -> ApplicationOut:
    """The application with links to its files signed for `subject` (the applicant, or `staff:<name>`)
    and, when a correction notice is out, the whole one-time notice as text."""
    licence = await applications.licence_of(session, application)
    stored = await files.for_application(session, application)
    links = {file_id: material_file(domain.settings, row, subject=subject) for file_id, row in stored.items()}
    text = None
    if application.correction_notice:
        text = render_notice_text(notice.notice_data(domain, application, licence))
    return application_out(
        domain, application, licence.number if licence else None, file_links=links, notice_text=text
    )


async def _out(
    session: AsyncSession, domain: Domain, application: Application, applicant: str
) -> ApplicationOut:
    return await application_view(session, domain, application, subject=applicant)


@routes.route(
    "POST",
    "/applications",
    summary="创建申请（开办 / 变更 / 注销）",
    access=Access.APPLICANT,
    body=ApplicationCreate,
    response=ApplicationOut,
    status=201,
    idempotent=True,
)
async def create_application(ctx: Ctx[ApplicationCreate, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    application = await applications.create(
        ctx.session, domain=domain, applicant_key=ctx.applicant, data=ctx.body
    )
    return await _out(ctx.session, domain, application, ctx.applicant)


@routes.route("GET", "/applications", summary="我的申请", access=Access.APPLICANT, response=ApplicationList)
async def list_applications(ctx: Ctx[None, None]) -> ApplicationList:
    domain = ctx.request.app[DOMAIN]
    rows = await applications.list_for_applicant(ctx.session, applicant_key=ctx.applicant)
    return ApplicationList(applications=[await _out(ctx.session, domain, a, ctx.applicant) for a in rows])


@routes.route(
    "GET",
    "/applications/{code}",
    summary="申请详情与办理进度",
    access=Access.APPLICANT,
    response=ApplicationOut,
)
async def get_application(ctx: Ctx[None, None]) -> ApplicationOut:
    application = await applications.get_for_applicant(
        ctx.session, applicant_key=ctx.applicant, code=ctx.path("code")
    )
    return await _out(ctx.session, ctx.request.app[DOMAIN], application, ctx.applicant)


@routes.route(
    "PATCH",
    "/applications/{code}",
    summary="修改问卷回答或申请人信息",
    access=Access.APPLICANT,
    body=ApplicationUpdate,
    response=ApplicationOut,
)
async def update_application(ctx: Ctx[ApplicationUpdate, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    application = await applications.update(
        ctx.session, domain=domain, applicant_key=ctx.applicant, code=ctx.path("code"), data=ctx.body
    )
    return await _out(ctx.session, domain, application, ctx.applicant)


@routes.route(
    "POST",
    "/applications/{code}/materials",
    summary="为清单中的材料登记已提交的文件（受理后只收容缺后补的材料）",
    access=Access.APPLICANT,
    body=MaterialAttach,
    response=ApplicationOut,
    idempotent=True,
)
async def attach_material(ctx: Ctx[MaterialAttach, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    application = await applications.attach_material(
        ctx.session, domain=domain, applicant_key=ctx.applicant, code=ctx.path("code"), data=ctx.body
    )
    return await _out(ctx.session, domain, application, ctx.applicant)


@routes.route(
    "DELETE",
    "/applications/{code}/materials/{material_id}/files/{file_id}",
    summary="撤回某份材料中的一个文件（草稿时，或审批部门要求重新提交该材料时；最后一个文件撤回后材料回到未提交）",
    access=Access.APPLICANT,
    response=ApplicationOut,
)
async def remove_material_file(ctx: Ctx[None, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    application = await applications.remove_material_file(
        ctx.session,
        domain=domain,
        applicant_key=ctx.applicant,
        code=ctx.path("code"),
        material_id=ctx.path("material_id"),
        file_id=ctx.path("file_id"),
    )
    return await _out(ctx.session, domain, application, ctx.applicant)


@routes.route(
    "POST",
    "/applications/{code}/commitments",
    summary="容缺后补或告知承诺（重复承诺不改变原补交期限）",
    access=Access.APPLICANT,
    body=CommitmentCreate,
    response=CommitmentOut,
    idempotent=True,
)
async def commit_material(ctx: Ctx[CommitmentCreate, None]) -> CommitmentOut:
    domain = ctx.request.app[DOMAIN]
    application, message = await applications.commit_material(
        ctx.session, domain=domain, applicant_key=ctx.applicant, code=ctx.path("code"), data=ctx.body
    )
    out = await _out(ctx.session, domain, application, ctx.applicant)
    return CommitmentOut(**out.model_dump(), message=message)


@routes.route(
    "POST",
    "/applications/{code}/submit",
    summary="提交申请（齐全即受理，否则出具一次性告知单）",
    access=Access.APPLICANT,
    response=ApplicationOut,
    idempotent=True,
)
async def submit_application(ctx: Ctx[None, None]) -> ApplicationOut:
    domain = ctx.request.app[DOMAIN]
    application = await applications.submit(
        ctx.session, domain=domain, applicant_key=ctx.applicant, code=ctx.path("code")
    )
    return await _out(ctx.session, domain, application, ctx.applicant)


@routes.route(
    "POST",
    "/applications/{code}/reapply",
    summary="不予许可后重新申请：用原申请的信息和材料新建草稿（201 新建，200 已有）",
    access=Access.APPLICANT,
    response=ApplicationOut,
    status=201,
    idempotent=True,
)
async def reapply(ctx: Ctx[None, None]) -> web.Response:
    domain = ctx.request.app[DOMAIN]
    application, created = await applications.reapply(
        ctx.session, domain=domain, applicant_key=ctx.applicant, code=ctx.path("code")
    )
    out = await _out(ctx.session, domain, application, ctx.applicant)
    return web.json_response(out.model_dump(mode="json"), status=201 if created else 200, dumps=_dumps)


@routes.route(
    "GET",
    "/applications/{code}/notice.png",
    summary="一次性告知单图片：全部许可、每份材料及其状态、还需要做的",
    access=Access.APPLICANT,
    produces="image/png",
)
async def application_notice(ctx: Ctx[None, None]) -> web.Response:
    domain = ctx.request.app[DOMAIN]
    application = await applications.get_for_applicant(
        ctx.session, applicant_key=ctx.applicant, code=ctx.path("code")
    )
    licence = await applications.licence_of(ctx.session, application)
    png = await ctx.request.app[PICTURES].notice_png(notice.notice_data(domain, application, licence))
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@routes.route(
    "POST",
    "/checklists/notice",
    summary="材料清单的一次性告知单图片链接（尚未创建申请时；签名，7 天内有效）",
    access=Access.SERVICE,
    body=ChecklistNoticeCreate,
    response=NoticeLink,
)
async def checklist_notice(ctx: Ctx[ChecklistNoticeCreate, None]) -> NoticeLink:
    url, expires_at = notice.checklist_notice_link(
        ctx.request.app[DOMAIN], ctx.body.package_id, ctx.body.answers
    )
    return NoticeLink(notice_url=url, expires_at=datetime.fromtimestamp(expires_at, UTC))


async def shared_notice(request: web.Request) -> web.Response:
    """The notice picture for whoever holds the signed link: the gateway fetches chat images by URL,
    without credentials. An expired or forged link answers 404 with a short note."""
    app = request.app
    grant = notice.grant_for(app[SETTINGS], request.match_info["token"])
    if grant is None:
        raise web.HTTPNotFound(text=LINK_EXPIRED, headers=_PUBLIC)
    async with app[SESSIONMAKER]() as session:
        data = await notice.shared_notice_data(session, app[DOMAIN], grant)
    if data is None:
        raise web.HTTPNotFound(text=LINK_EXPIRED, headers=_PUBLIC)
    png = await app[PICTURES].notice_png(data)
    if grant.application_code is not None:
        # A person's materials, changing as they arrive: no cache keeps it.
        cache = "private, no-store"
    else:
        cache = f"private, max-age={max(0, min(CHECKLIST_MAX_AGE, grant.expires_at - int(time.time())))}"
    return web.Response(body=png, content_type="image/png", headers={**_PUBLIC, "Cache-Control": cache})


def setup(app: web.Application) -> None:
    app.router.add_get(tokens.NOTICE_PATH + "{token}/notice.png", shared_notice)


@routes.route(
    "GET",
    "/applications/{code}/licence",
    summary="该申请核发的行业综合许可证",
    access=Access.APPLICANT,
    response=LicenceOut,
)
async def application_licence(ctx: Ctx[None, None]) -> LicenceOut:
    application = await applications.get_for_applicant(
        ctx.session, applicant_key=ctx.applicant, code=ctx.path("code")
    )
    licence = await applications.licence_of(ctx.session, application)
    if licence is None:
        raise NotFound("该申请尚未核发许可证", code="licence_not_issued")
    return licence_out(ctx.request.app[DOMAIN], licence)


@routes.route("GET", "/licences", summary="我的许可证", access=Access.APPLICANT, response=LicenceList)
async def list_licences(ctx: Ctx[None, None]) -> LicenceList:
    domain = ctx.request.app[DOMAIN]
    rows = await licences.list_for_applicant(ctx.session, applicant_key=ctx.applicant)
    return LicenceList(licences=[licence_out(domain, lic) for lic in rows])


@routes.route("GET", "/licences/{number}", summary="许可证详情", access=Access.APPLICANT, response=LicenceOut)
async def get_licence(ctx: Ctx[None, None]) -> LicenceOut:
    licence = await licences.get_for_applicant(
        ctx.session, applicant_key=ctx.applicant, number=ctx.path("number")
    )
    return licence_out(ctx.request.app[DOMAIN], licence)
