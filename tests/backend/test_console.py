"""The staff console over HTTP, as a browser without JavaScript uses it: cookie sessions, CSRF on every
form, roles, and the agent / reviewer / admin work that goes through it. Browser tests with real Chromium
are in test_console_browser.py."""

import re
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from yarl import URL

from backend.keys import DOMAIN, SESSIONMAKER
from backend.models import DepartmentTask
from backend.settings import Settings
from tests.backend.conftest import ADMIN_PASSWORD, SERVICE_KEY, Api
from tests.backend.test_refusals import CLOSED_REASON, cinema_refused_after_registration
from tests.backend.test_tasks import APPLICANT as TASK_APPLICANT
from tests.backend.test_tasks import accepted_application

APPLICANT = "wechat:oConsoleApplicant000001"
PASSWORD = "console-pass-123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    holidays = tmp_path / "no-holidays.yaml"
    holidays.write_text("years: []\n", encoding="utf-8")
    return settings.model_copy(update={"office_hours": "mon-sun 00:00-24:00", "holidays_file": holidays})


class Console:
    """One browser: its own cookie jar, forms posted with the CSRF token of the last page it loaded."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.base = str(client.make_url("")).rstrip("/")
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.last_text = ""

    async def get(
        self, path: str, *, expect: int | None = 200, follow: bool = True
    ) -> aiohttp.ClientResponse:
        response = await self.http.get(self.base + path, allow_redirects=follow)
        self.last_text = await response.text()
        if match := CSRF.search(self.last_text):
            self.csrf = match[1]
        if expect is not None:
            assert response.status == expect, (path, response.status, self.last_text[:500])
        return response

    async def post(
        self,
        path: str,
        data: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        csrf: str | None = None,
        expect: int | None = 303,
    ) -> aiohttp.ClientResponse:
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        token = self.csrf if csrf is None else csrf
        if token:
            fields.append(("csrf_token", token))
        response = await self.http.post(self.base + path, data=fields, allow_redirects=False)
        self.last_text = await response.text()
        if expect is not None:
            assert response.status == expect, (path, response.status, self.last_text[:800])
        return response

    async def login(
        self, username: str, password: str = PASSWORD, *, expect: int = 303
    ) -> aiohttp.ClientResponse:
        await self.get("/console/login")
        return await self.post("/console/login", {"username": username, "password": password}, expect=expect)

    def flash(self) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == "zzlb_flash":
                return unquote(cookie.value)
        return None

    async def close(self) -> None:
        await self.http.close()


ConsoleFactory = Callable[[], Console]


@pytest.fixture
async def console(client: TestClient[Any, Any]) -> AsyncIterator[ConsoleFactory]:
    opened: list[Console] = []

    def make() -> Console:
        opened.append(Console(client))
        return opened[-1]

    yield make
    for browser in opened:
        await browser.close()


async def make_staff(
    api: Api, username: str, role: str, department_id: str | None = None, name: str = ""
) -> None:
    await api.call(
        "POST",
        "/staff",
        token=await api.admin(),
        expect=201,
        json={
            "username": username,
            "display_name": name or username,
            "password": PASSWORD,
            "role": role,
            "department_id": department_id,
        },
    )


async def signed_in(console: ConsoleFactory, api: Api, username: str, role: str, **extra: Any) -> Console:
    await make_staff(api, username, role, **extra)
    browser = console()
    await browser.login(username)
    return browser


async def events(api: Api, kind: str) -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["type"] == kind]


PAGES = [
    "/console/",
    "/console/handoffs",
    "/console/handoffs/1",
    "/console/tasks",
    "/console/tasks/1",
    "/console/overview",
    "/console/staff",
    "/console/catalog",
    "/console/audit",
]
FORMS = [
    "/console/logout",
    "/console/handoffs/1/claim",
    "/console/handoffs/1/reply",
    "/console/handoffs/1/close",
    "/console/tasks/1/decide",
    "/console/staff",
    "/console/staff/1/active",
    "/console/catalog/reload",
]
CONSOLE_API = ["/console/api/handoffs", "/console/api/handoffs/1"]
STAFF_API = [
    ("GET", "/handoffs"),
    ("GET", "/handoffs/1"),
    ("POST", "/handoffs/1/claim"),
    ("POST", "/handoffs/1/close"),
    ("GET", "/tasks"),
    ("POST", "/tasks/1/decisions"),
    ("GET", "/tasks/1/application"),
    ("GET", "/staff"),
    ("POST", "/staff"),
    ("GET", "/audit"),
]


async def test_anonymous_callers_are_refused(console: ConsoleFactory, api: Api) -> None:
    browser = console()
    for path in PAGES:
        response = await browser.get(path, expect=303, follow=False)
        assert response.headers["Location"].startswith("/console/login?next="), path
    for path in FORMS:
        response = await browser.post(path, {"text": "x"}, csrf="forged", expect=303)
        assert response.headers["Location"].startswith("/console/login"), path
    for path in CONSOLE_API:
        response = await browser.get(path, expect=401)
        assert (await response.json())["error"]["code"] == "unauthorized"
    for method, path in STAFF_API:
        await api.call(method, path, expect=401, json={} if method == "POST" else None)
    # A made-up or stale session cookie is no better than none.
    browser.http.cookie_jar.update_cookies(
        {"zzlb_staff": "not-a-session"}, response_url=URL(browser.base + "/console/")
    )
    await browser.get("/console/handoffs", expect=303, follow=False)


async def test_login_sets_a_console_cookie_and_logout_ends_it(console: ConsoleFactory, api: Api) -> None:
    browser = console()
    response = await browser.login("admin", ADMIN_PASSWORD)
    assert response.headers["Location"] == "/console/overview"
    cookie = response.headers["Set-Cookie"]
    assert "zzlb_staff=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/console" in cookie  # never sent to /api/v1, so the JSON API has no cookie to forge
    page = await browser.get("/console/overview")
    assert "服务概览" in browser.last_text and page.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

    # A form without the session's CSRF token, or with another one, is refused and changes nothing.
    await browser.post("/console/logout", csrf="", expect=403)
    await browser.post("/console/logout", csrf="wrong-token", expect=403)
    assert "安全校验未通过" in browser.last_text
    await browser.get("/console/overview")
    await browser.post("/console/logout", expect=303)
    await browser.get("/console/overview", expect=303, follow=False)

    # `next` brings you back, but only to a console page.
    await browser.get("/console/login?next=/console/audit")
    response = await browser.post(
        "/console/login", {"username": "admin", "password": ADMIN_PASSWORD, "next": "/console/audit"}
    )
    assert response.headers["Location"] == "/console/audit"
    for target in ("//evil.example/x", "https://evil.example/", "/console/..//evil", "/api/v1/staff"):
        other = console()
        await other.get("/console/login")
        response = await other.post(
            "/console/login", {"username": "admin", "password": ADMIN_PASSWORD, "next": target}
        )
        assert response.headers["Location"] == "/console/overview", target


async def test_login_form_is_csrf_protected_and_locks_out(console: ConsoleFactory, api: Api) -> None:
    await make_staff(api, "agent_lock", "agent")
    browser = console()
    await browser.get("/console/login")
    # No token, or a token that is not the one this browser was given.
    await browser.post(
        "/console/login", {"username": "agent_lock", "password": PASSWORD}, csrf="", expect=403
    )
    await browser.post(
        "/console/login", {"username": "agent_lock", "password": PASSWORD}, csrf="x" * 32, expect=403
    )
    for _ in range(5):
        await browser.login("agent_lock", "wrong-password-1", expect=401)
        assert "用户名或密码错误" in browser.last_text
    await browser.login("agent_lock", PASSWORD, expect=401)
    assert "锁定" in browser.last_text


async def test_roles_reach_only_their_pages(console: ConsoleFactory, api: Api) -> None:
    application = await accepted_application(api, "cinema")  # registration, hygiene and fire safety
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    other_department = next(
        t for t in application["tasks"] if t["department_id"] != registration["department_id"]
    )

    agent = await signed_in(console, api, "agent_roles", "agent")
    for path in (
        "/console/overview",
        "/console/staff",
        "/console/catalog",
        "/console/audit",
        "/console/tasks",
    ):
        await agent.get(path, expect=403)
        assert "没有权限" in agent.last_text
    await agent.get(f"/console/tasks/{registration['id']}", expect=403)
    await agent.get("/console/handoffs")
    await agent.post("/console/catalog/reload", expect=403)
    await agent.post("/console/staff", {"username": "sneaky", "role": "admin"}, expect=403)
    await agent.post(f"/console/tasks/{registration['id']}/decide", {"decision": "approve"}, expect=403)

    reviewer = await signed_in(
        console, api, "rev_other", "reviewer", department_id=other_department["department_id"]
    )
    await reviewer.get("/console/handoffs", expect=403)
    await reviewer.get("/console/api/handoffs", expect=403)
    await reviewer.get("/console/overview", expect=403)
    # Another department's task: neither shown in the list, nor readable, nor decidable.
    await reviewer.get("/console/tasks?view=all")
    assert application["code"] in reviewer.last_text  # its own (waiting) task is listed
    assert f'/console/tasks/{registration["id"]}"' not in reviewer.last_text
    await reviewer.get(f"/console/tasks/{registration['id']}", expect=403)
    await reviewer.post(f"/console/tasks/{registration['id']}/decide", {"decision": "approve"}, expect=403)
    mine = await api.call("GET", f"/applications/{application['code']}", applicant=TASK_APPLICANT)
    assert next(t for t in mine["tasks"] if t["id"] == registration["id"])["status"] == "pending"
    await reviewer.get("/console/tasks/999999", expect=404)


async def test_agent_claims_replies_and_hands_back(console: ConsoleFactory, api: Api) -> None:
    handoff = await api.call(
        "POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "complaint"}
    )
    await api.call(
        "POST",
        f"/handoffs/{handoff['id']}/messages",
        applicant=APPLICANT,
        expect=201,
        json={"text": "窗口说要等很久"},
    )
    agent = await signed_in(console, api, "agent_zhao", "agent", name="赵帮办")
    colleague = await signed_in(console, api, "agent_sun", "agent", name="孙帮办")
    await agent.get("/console/handoffs")
    assert "投诉" in agent.last_text and "窗口说要等很久" in agent.last_text
    queue = await (await agent.get("/console/api/handoffs?status=waiting")).json()
    assert [h["id"] for h in queue["handoffs"]] == [handoff["id"]] and queue["waiting"] == 1
    rows = await agent.get("/console/handoffs?status=waiting&fragment=rows")
    assert "<html" not in agent.last_text and "接入" in await rows.text()

    path = f"/console/handoffs/{handoff['id']}"
    await agent.get(path)
    await agent.post(f"{path}/claim", csrf="", expect=403)
    response = await agent.post(f"{path}/claim")
    assert response.headers["Location"] == path
    await agent.get(path)
    assert "发送" in agent.last_text and "窗口说要等很久" in agent.last_text

    await colleague.get(path)
    assert "你可以查看，但不能回复" in colleague.last_text
    await colleague.post(f"{path}/claim")
    assert "赵帮办" in (colleague.flash() or "")
    await colleague.post(f"{path}/reply", {"text": "我来回答"}, expect=403)

    await agent.post(f"{path}/reply", {"text": "   "})
    assert "不能为空" in (agent.flash() or "")
    await agent.get(path)
    await agent.post(f"{path}/reply", {"text": "很抱歉让您久等，我来帮您办理。"})
    sent = await events(api, "handoff.message")
    assert [(e["applicant"], e["payload"]) for e in sent] == [
        (
            APPLICANT,
            {"handoff_id": handoff["id"], "text": "很抱歉让您久等，我来帮您办理。", "staff_name": "赵帮办"},
        )
    ]
    thread = await (await agent.get(f"/console/api/handoffs/{handoff['id']}")).json()
    assert [m["sender"] for m in thread["messages"]] == ["applicant", "staff"]

    await agent.get(path)
    response = await agent.post(f"{path}/close")
    assert response.headers["Location"] == "/console/handoffs"
    closed = await events(api, "handoff.closed")
    assert closed[0]["applicant"] == APPLICANT and closed[0]["payload"]["handoff_id"] == handoff["id"]
    await api.call(
        "POST",
        f"/handoffs/{handoff['id']}/messages",
        applicant=APPLICANT,
        expect=409,
        json={"text": "还在吗"},
    )
    audit = (await api.call("GET", f"/audit?target=handoff:{handoff['id']}", token=await api.admin()))[
        "entries"
    ]
    assert [e["action"] for e in reversed(audit)] == ["handoff.claim", "handoff.message", "handoff.close"]


async def test_reviewer_decides_through_the_console(console: ConsoleFactory, api: Api, client: Any) -> None:
    application = await accepted_application(api)
    code = application["code"]
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    reviewer = await signed_in(
        console, api, "rev_market", "reviewer", department_id=registration["department_id"], name="钱审批"
    )
    # Overdue and due-today tasks are marked in the list.
    async with client.app[SESSIONMAKER]() as session:
        await session.execute(
            update(DepartmentTask)
            .where(DepartmentTask.id == registration["id"])
            .values(due_date=date.today() - timedelta(days=7))
        )
        await session.commit()
    await reviewer.get("/console/tasks")
    assert (
        code in reviewer.last_text
        and "超期" in reviewer.last_text
        and 'class="overdue"' in reviewer.last_text
    )
    await reviewer.get("/console/tasks?view=overdue")
    assert code in reviewer.last_text

    path = f"/console/tasks/{registration['id']}"
    await reviewer.get(path)
    assert "审批决定" in reviewer.last_text and INFO_NAME in reviewer.last_text
    material = application["materials"][0]

    # Refused decisions come back as a message; nothing is decided.
    await reviewer.post(f"{path}/decide", {"decision": "reject"})
    assert "理由" in (reviewer.flash() or "")
    await reviewer.get(path)
    await reviewer.post(
        f"{path}/decide", {"decision": "schedule_inspection", "inspection_date": "2001-01-01"}
    )
    assert "核查日期" in (reviewer.flash() or "")
    await reviewer.get(path)
    await reviewer.post(f"{path}/decide", {"decision": "launch"})
    assert "请选择审批决定" in (reviewer.flash() or "")
    await reviewer.get(path)
    await reviewer.post(f"{path}/decide", {"decision": "approve"}, csrf="", expect=403)

    await reviewer.get(path)
    await reviewer.post(
        f"{path}/decide",
        [
            ("decision", "request_correction"),
            ("problem_material", material["material_id"]),
            (f"problem_{material['material_id']}", "复印件不清晰，请上传原件照片"),
            ("reason", "请补正后再审"),
        ],
    )
    assert "需要补正材料" in (reviewer.flash() or "")
    corrected = await api.call("GET", f"/applications/{code}", applicant=TASK_APPLICANT)
    assert corrected["status"] == "needs_correction"
    item = next(m for m in corrected["materials"] if m["material_id"] == material["material_id"])
    assert item["problem"] == "复印件不清晰，请上传原件照片"

    await api.call(
        "POST",
        f"/applications/{code}/materials",
        applicant=TASK_APPLICANT,
        json={"material_id": material["material_id"]},
    )
    await api.call("POST", f"/applications/{code}/submit", applicant=TASK_APPLICANT)
    await reviewer.get(path)
    await reviewer.post(f"{path}/decide", {"decision": "approve", "reason": "材料齐全"})
    assert "准予许可" in (reviewer.flash() or "")
    await reviewer.get(path)
    assert "无需作出决定" in reviewer.last_text

    decided = await events(api, "task.decided")
    assert [e["payload"]["decision"] for e in decided] == ["request_correction", "approve"]
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get(f"/console/audit?target=task:{registration['id']}")
    assert (
        "要求补正" in admin.last_text
        and "准予许可" in admin.last_text
        and "staff:rev_market" in admin.last_text
    )
    entries = (await api.call("GET", f"/audit?target=task:{registration['id']}", token=await api.admin()))[
        "entries"
    ]
    assert [e["action"] for e in entries] == ["task.approve", "task.request_correction"]


INFO_NAME = "临沂老王火锅店"


async def test_admin_manages_accounts(console: ConsoleFactory, api: Api) -> None:
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get("/console/staff")
    await admin.post(
        "/console/staff",
        {"username": "Bad Name", "display_name": "x", "password": "long-enough-1", "role": "agent"},
    )
    assert "用户名" in (admin.flash() or "")
    await admin.get("/console/staff")
    await admin.post(
        "/console/staff",
        {"username": "li.na", "display_name": "李娜", "password": "short", "role": "agent"},
    )
    assert "密码" in (admin.flash() or "")
    await admin.get("/console/staff")
    await admin.post(
        "/console/staff",
        {
            "username": "wang.rev",
            "display_name": "王审批",
            "password": PASSWORD,
            "role": "reviewer",
            "department_id": "nowhere",
        },
    )
    assert "部门" in (admin.flash() or "")
    await admin.get("/console/staff")
    await admin.post(
        "/console/staff",
        {
            "username": "li.na",
            "display_name": "李娜",
            "password": PASSWORD,
            "role": "agent",
            "department_id": "health",
        },
    )
    assert "已创建账号 li.na" in (admin.flash() or "")
    staff = (await api.call("GET", "/staff", token=await api.admin()))["staff"]
    li = next(s for s in staff if s["username"] == "li.na")
    assert li["role"] == "agent" and li["department_id"] is None

    agent = console()
    await agent.login("li.na")
    await agent.get("/console/handoffs")
    await admin.get("/console/staff")
    await admin.post(f"/console/staff/{li['id']}/active", {"active": "0"})
    assert "已停用" in (admin.flash() or "")
    await agent.get("/console/handoffs", expect=303, follow=False)  # signed out at once
    await agent.login("li.na", expect=401)

    me = next(s for s in staff if s["username"] == "admin")
    await admin.get("/console/staff")
    await admin.post(f"/console/staff/{me['id']}/active", {"active": "0"})
    assert "不能停用自己" in (admin.flash() or "")
    await admin.get("/console/staff")
    await admin.post(f"/console/staff/{li['id']}/active", {"active": "1"})
    await agent.login("li.na")
    actions = [
        e["action"]
        for e in (await api.call("GET", "/audit?target=staff:li.na", token=await api.admin()))["entries"]
    ]
    assert {"staff.create", "staff.deactivate", "staff.activate"} <= set(actions)


async def test_catalog_reload_swaps_only_a_valid_catalog(
    console: ConsoleFactory, api: Api, client: Any, settings: Settings, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "catalog"
    shutil.copytree(settings.catalog_dir, copy)
    settings.catalog_dir = copy
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    before = client.app[DOMAIN]

    await admin.get("/console/catalog")
    await admin.post("/console/catalog/reload")
    assert "目录已重新加载" in (admin.flash() or "")
    assert client.app[DOMAIN] is not before
    good = client.app[DOMAIN]

    packages = copy / "packages.yaml"
    packages.write_text(
        packages.read_text(encoding="utf-8") + "\n  - id: broken\n    name: 缺事项\n", encoding="utf-8"
    )
    await admin.get("/console/catalog")
    await admin.post("/console/catalog/reload")
    assert "目录有错误" in (admin.flash() or "")
    assert client.app[DOMAIN] is good  # the running catalog is untouched
    await admin.get("/console/catalog")
    assert "失败" in admin.last_text and "packages.yaml" in admin.last_text
    # Applicants keep being served from the good catalog.
    assert (await api.call("GET", "/catalog/packages"))["packages"]
    audit = (await api.call("GET", "/audit?target=catalog", token=await api.admin()))["entries"]
    assert [e["detail"]["ok"] for e in audit] == [False, True]


async def test_overview_shows_the_figures(console: ConsoleFactory, api: Api) -> None:
    application = await accepted_application(api)
    admin_token = await api.admin()
    for task in application["tasks"]:
        if task["status"] == "pending":
            await api.call(
                "POST", f"/tasks/{task['id']}/decisions", token=admin_token, json={"decision": "approve"}
            )
    waiting = await api.call(
        "POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "fallback"}
    )
    await api.call(
        "POST", "/ratings", applicant=APPLICANT, expect=201, json={"score": 2, "comment": "排队太久"}
    )
    await api.call(
        "POST", "/ratings", applicant=TASK_APPLICANT, expect=201, json={"score": 5, "comment": "很方便"}
    )
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get("/console/overview")
    text = admin.last_text
    assert "服务概览" in text and "审批中" in text
    assert "办理用时与承诺时限" in text and "<svg" in text and "营业执照" in text
    assert "排队太久" in text and "3.5" in text  # the average of 2 and 5
    # the scores named as the applicant's score buttons name them (config/ratings.yaml)
    assert "1 分 非常不满意" in text and "3 分 基本满意" in text
    assert "助手两次未能理解" in text
    await admin.get(f"/console/handoffs/{waiting['id']}")
    assert "接入此会话" in admin.last_text


async def test_inspection_and_rejection_reach_the_applicant_and_the_audit_log(
    console: ConsoleFactory, api: Api
) -> None:
    application = await accepted_application(api, "cinema")
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    await api.call(
        "POST",
        f"/tasks/{registration['id']}/decisions",
        token=await api.admin(),
        json={"decision": "approve"},
    )
    task = next(t for t in application["tasks"] if t["department_id"] != registration["department_id"])
    reviewer = await signed_in(console, api, "rev_site", "reviewer", department_id=task["department_id"])
    path = f"/console/tasks/{task['id']}"
    day = (date.today() + timedelta(days=3)).isoformat()
    await reviewer.get(path)
    await reviewer.post(
        f"{path}/decide", {"decision": "schedule_inspection", "inspection_date": day, "reason": "联合踏勘"}
    )
    assert "安排现场核查" in (reviewer.flash() or "")
    await reviewer.get(path)
    assert "现场核查日期" in reviewer.last_text
    await reviewer.post(f"{path}/decide", {"decision": "reject", "reason": "消防通道被占用"})
    assert "不予许可" in (reviewer.flash() or "")

    decided = [e for e in await events(api, "task.decided") if e["payload"]["task_id"] == task["id"]]
    assert [(e["applicant"], e["payload"]["decision"]) for e in decided] == [
        (TASK_APPLICANT, "schedule_inspection"),
        (TASK_APPLICANT, "reject"),
    ]
    assert (
        decided[0]["payload"]["inspection_date"] == day
        and decided[1]["payload"]["reason"] == "消防通道被占用"
    )
    assert [e["application_code"] for e in await events(api, "application.rejected")] == [application["code"]]
    entries = (await api.call("GET", f"/audit?target=task:{task['id']}", token=await api.admin()))["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("staff:rev_site", "task.reject"),
        ("staff:rev_site", "task.schedule_inspection"),
    ]


async def test_the_console_shows_a_closed_task_as_ended_and_not_in_the_queue(
    console: ConsoleFactory, api: Api
) -> None:
    application, _, closed = await cinema_refused_after_registration(api)
    browser = await signed_in(console, api, "rev_closed", "reviewer", department_id=closed["department_id"])
    for view in ("open", "all"):
        await browser.get(f"/console/tasks?view={view}")
        assert application["code"] not in browser.last_text, view
    path = f"/console/tasks/{closed['id']}"
    await browser.get(path)
    assert "终止办理" in browser.last_text and CLOSED_REASON in browser.last_text
    assert "提交决定" not in browser.last_text
    await browser.post(f"{path}/decide", {"decision": "reject", "reason": "不行"})
    assert "终止办理" in (browser.flash() or "")
