"""Managers: the overview with charts, staff accounts and roles, catalog reload, the audit log."""

import asyncio
import warnings
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from pydantic import ValidationError

from backend import audit, staff
from backend.catalog import CatalogError
from backend.console import accounts, overview
from backend.console.pages import PREFIX, Page, console_view
from backend.domain import Domain, load_domain
from backend.errors import Conflict, InvalidInput, InvalidState
from backend.keys import DOMAIN
from backend.models import utcnow
from backend.schemas import StaffCreate

routes = web.RouteTableDef()
ADMINS = ("admin",)


@dataclass(frozen=True)
class Reload:
    at: datetime
    by: str
    ok: bool
    message: str


RELOADS = web.AppKey("console_reloads", list[Reload])


@routes.get(PREFIX + "/overview")
@console_view(*ADMINS)
async def overview_page(page: Page) -> web.StreamResponse:
    figures = await overview.build(page.session, page.domain)
    return page.render("overview.html", o=figures, recent_days=overview.RECENT_DAYS)


# --- staff accounts -----------------------------------------------------------------------------------------

STAFF_FIELDS = {
    "username": "用户名应为 3–64 位小写字母、数字或 . _ -，以字母开头",
    "display_name": "请填写姓名（最多 100 字）",
    "password": "密码至少 10 位",
    "role": "请选择角色",
    "department_id": "部门不正确",
}


@routes.get(PREFIX + "/staff")
@console_view(*ADMINS)
async def staff_page(page: Page) -> web.StreamResponse:
    return page.render(
        "staff.html",
        accounts=await staff.list_staff(page.session),
        departments=page.domain.catalog.departments,
    )


@routes.post(PREFIX + "/staff")
@console_view(*ADMINS)
async def create_staff(page: Page) -> web.StreamResponse:
    role = page.field("role")
    try:
        data = StaffCreate(
            username=page.field("username"),
            display_name=page.field("display_name"),
            password=str(page.form.get("password", "")) if page.form is not None else "",
            role=role,
            department_id=(page.field("department_id") or None) if role == "reviewer" else None,
        )
        user = await staff.create_staff(page.session, domain=page.domain, data=data, actor=page.actor)
    except ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
        return page.redirect(PREFIX + "/staff", error=STAFF_FIELDS.get(where, "填写的内容不正确"))
    except (InvalidInput, Conflict) as exc:
        return page.redirect(PREFIX + "/staff", error=exc.message)
    return page.redirect(
        PREFIX + "/staff", ok=f"已创建账号 {user.username}（{staff.ROLE_LABELS[user.role]}）"
    )


@routes.post(PREFIX + r"/staff/{staff_id:\d{1,9}}/active")
@console_view(*ADMINS)
async def set_active(page: Page) -> web.StreamResponse:
    active = page.field("active") == "1"
    try:
        user = await accounts.set_active(
            page.session, actor=page.staff, staff_id=int(page.request.match_info["staff_id"]), active=active
        )
    except InvalidState as exc:
        return page.redirect(PREFIX + "/staff", error=exc.message)
    done = "已启用" if active else "已停用（已在所有设备上退出登录）"
    return page.redirect(PREFIX + "/staff", ok=f"{user.display_name}（{user.username}）{done}")


# --- catalog ---------------------------------------------------------------------------------------------


def _catalog_figures(domain: Domain) -> dict[str, int]:
    catalog = domain.catalog
    return {
        "行业套餐": len(catalog.packages),
        "许可事项": len(catalog.matters),
        "材料": len(catalog.materials),
        "部门": len(catalog.departments),
        "问题": len(catalog.questions),
    }


@routes.get(PREFIX + "/catalog")
@console_view(*ADMINS)
async def catalog_page(page: Page) -> web.StreamResponse:
    domain = page.domain
    return page.render(
        "catalog.html",
        figures=_catalog_figures(domain),
        packages=sorted(domain.catalog.packages.values(), key=lambda p: p.name),
        years=domain.calendar.years,
        provisional=domain.calendar.provisional_years,
        reloads=list(reversed(page.request.app[RELOADS][-10:])),
        catalog_dir=str(page.settings.catalog_dir),
    )


@routes.post(PREFIX + "/catalog/reload")
@console_view(*ADMINS)
async def reload_catalog(page: Page) -> web.StreamResponse:
    """Re-read the catalog, holiday and lifecycle files; swap the running ones only when all are valid."""
    app = page.request.app
    before = _catalog_figures(app[DOMAIN])
    try:
        fresh = await asyncio.to_thread(load_domain, page.settings)
    except (CatalogError, OSError) as exc:
        message = str(exc)
        app[RELOADS].append(Reload(utcnow(), page.staff.display_name, False, message))
        audit.record(
            page.session, actor=page.actor, action="catalog.reload", target="catalog", ok=False, error=message
        )
        await page.session.commit()
        return page.redirect(
            PREFIX + "/catalog", error="目录有错误，未加载，仍在使用原目录。错误详情见下方。"
        )
    with warnings.catch_warnings():
        # Swapping a value in the running app is the point here; every request reads app[DOMAIN] afresh.
        warnings.simplefilter("ignore", DeprecationWarning)
        app[DOMAIN] = fresh
    after = _catalog_figures(fresh)
    changes = "，".join(
        f"{name} {before[name]}→{after[name]}" for name in after if after[name] != before[name]
    )
    message = "目录已重新加载" + (f"：{changes}" if changes else "，数量没有变化")
    app[RELOADS].append(Reload(utcnow(), page.staff.display_name, True, message))
    audit.record(page.session, actor=page.actor, action="catalog.reload", target="catalog", ok=True, **after)
    await page.session.commit()
    return page.redirect(PREFIX + "/catalog", ok=message)


# --- audit log -------------------------------------------------------------------------------------------


AUDIT_LABELS = {
    "task.approve": "准予许可",
    "task.request_correction": "要求补正",
    "task.reject": "不予许可",
    "task.schedule_inspection": "安排现场核查",
    "handoff.claim": "接入人工服务",
    "handoff.message": "回复申请人",
    "handoff.close": "交还智能助手",
    "handoff.close_idle": "长时间无消息，自动结束",
    "material.read": "查看申请材料",
    "staff.login": "登录",
    "staff.locked": "登录失败过多，锁定",
    "staff.create": "新建账号",
    "staff.activate": "启用账号",
    "staff.deactivate": "停用账号",
    "catalog.reload": "重新加载目录",
}


@routes.get(PREFIX + "/audit")
@console_view(*ADMINS)
async def audit_page(page: Page) -> web.StreamResponse:
    target = page.request.query.get("target", "").strip()[:200] or None
    entries = await audit.entries(page.session, target=target, limit=300)
    return page.render("audit.html", entries=entries, target=target or "", labels=AUDIT_LABELS)
