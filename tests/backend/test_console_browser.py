"""The staff console in real headless Chromium (Debian's `chromium`, driven by Playwright): an agent takes
over a conversation live and hands it back, a reviewer approves the last task and the licence is issued,
an admin looks at the overview. Screenshots of every screen go to test-artifacts/console/."""

import asyncio
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from backend.settings import PROJECT_ROOT, Settings
from tests.backend.conftest import ADMIN_PASSWORD, SERVICE_KEY, Api
from tests.backend.test_console import PASSWORD, make_staff
from tests.backend.test_lifecycle import INFO, answer_everything, restaurant_package

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "console"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}  # iPad Air, portrait
APPLICANT = "wechat:oBrowserApplicant00001"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    holidays = tmp_path / "no-holidays.yaml"
    holidays.write_text("years: []\n", encoding="utf-8")
    return settings.model_copy(update={"office_hours": "mon-sun 00:00-24:00", "holidays_file": holidays})


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240  (one stat before the browser starts)
        message = "Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


class Screen:
    """A browser tab that fails the test on any script error and saves screenshots by name."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    async def open(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def shot(self, name: str, *, full: bool = True) -> None:
        await self.page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    async def login(self, username: str, password: str = PASSWORD) -> None:
        await self.open("/console/login")
        await self.page.fill("input[name=username]", username)
        await self.page.fill("input[name=password]", password)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_load_state()


async def screen(browser: Browser, client: Any, viewport: dict[str, int] = LAPTOP) -> Screen:
    context = await browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    return Screen(await context.new_page(), str(client.make_url("")).rstrip("/"))


def document_photo(title_bars: int) -> bytes:
    """A sharp, document-like photo (dark lines of "text" on paper), as a phone would send it."""
    image = Image.new("RGB", (1600, 1200), (246, 244, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 100, 1480, 1100), outline=(40, 40, 40), width=6)
    draw.rectangle((560, 150, 1040, 220), fill=(179, 38, 30))
    for row in range(title_bars, title_bars + 14):
        y = 280 + (row - title_bars) * 55
        draw.rectangle((180, y, 180 + 300 + (row * 97) % 900, y + 18), fill=(30, 30, 30))
    draw.ellipse((1180, 860, 1400, 1080), outline=(179, 38, 30), width=10)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


async def upload(api: Api, applicant: str, data: bytes) -> str:
    form = {"file": io.BytesIO(data)}
    response = await api.client.post("/api/v1/files", data=form, headers=api.applicant_headers(applicant))
    body = await response.json()
    assert response.status == 201, body
    return str(body["file_id"])


async def submitted_with_photos(api: Api, applicant: str) -> dict[str, Any]:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    created = await api.call(
        "POST",
        "/applications",
        applicant=applicant,
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    code = created["code"]
    for index, material in enumerate(created["materials"]):
        body: dict[str, Any] = {"material_id": material["material_id"]}
        if index < 3:
            body["file_id"] = await upload(api, applicant, document_photo(index))
        await api.call("POST", f"/applications/{code}/materials", applicant=applicant, json=body)
    return await api.call("POST", f"/applications/{code}/submit", applicant=applicant)


async def events(api: Api, kind: str) -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["type"] == kind]


async def test_agent_takes_over_a_conversation_and_hands_it_back(
    browser: Browser, api: Api, client: Any
) -> None:
    await make_staff(api, "agent_chen", "agent", name="陈帮办")
    await submitted_with_photos(api, APPLICANT)
    tab = await screen(browser, client)
    await tab.open("/console/login")
    await tab.page.fill("input[name=username]", "agent_chen")
    await tab.shot("01-login")
    await tab.login("agent_chen")
    await expect(tab.page).to_have_url(tab.base + "/console/handoffs")
    await expect(tab.page.locator("tbody")).to_contain_text("目前没有等待人工服务的申请人")

    # The applicant asks for a person while the agent watches the queue: it appears without a reload.
    handoff = await api.call(
        "POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked", "note": "我要找人工"}
    )
    await api.call(
        "POST",
        f"/handoffs/{handoff['id']}/messages",
        applicant=APPLICANT,
        expect=201,
        json={"text": "请问我的饭店申请还差什么材料？"},
    )
    row = tab.page.locator(f"tr[data-handoff='{handoff['id']}']")
    await expect(row).to_contain_text("要求人工服务", timeout=10_000)
    await expect(row).to_contain_text("请问我的饭店申请还差什么材料？")
    await expect(tab.page.locator("[data-waiting-badge]")).to_have_text("1")
    await tab.shot("02-queue-live")

    await row.get_by_role("button", name="接入").click()
    await expect(tab.page).to_have_url(f"{tab.base}/console/handoffs/{handoff['id']}")
    await expect(tab.page.locator(".flash.ok")).to_contain_text("已接入")
    await expect(tab.page.locator(".applicant-card")).to_contain_text("餐饮服务")
    await expect(tab.page.locator(".applicant-card .thumb img").first).to_be_visible()
    await tab.shot("03-conversation-claimed")

    # A new message from the applicant shows up in the open conversation.
    await api.call(
        "POST",
        f"/handoffs/{handoff['id']}/messages",
        applicant=APPLICANT,
        expect=201,
        json={"text": "我在等您回复"},
    )
    await expect(tab.page.locator("#thread .msg.applicant .bubble").last).to_have_text(
        "我在等您回复", timeout=10_000
    )

    await tab.page.get_by_role("button", name="插入材料清单").first.click()
    await expect(tab.page.locator("#reply")).to_have_value(re.compile("材料清单"))
    await tab.page.fill("#reply", "您好，材料已经齐全，正在审批中，请留意通知。")
    await tab.page.get_by_role("button", name="发送").click()
    await expect(tab.page.locator("#thread .msg.staff .bubble").last).to_have_text(
        "您好，材料已经齐全，正在审批中，请留意通知。"
    )
    await tab.shot("04-conversation-replied")

    # The applicant receives the reply: a handoff.message event addressed to them.
    sent = await events(api, "handoff.message")
    assert [(e["applicant"], e["payload"]["text"], e["payload"]["staff_name"]) for e in sent] == [
        (APPLICANT, "您好，材料已经齐全，正在审批中，请留意通知。", "陈帮办")
    ]

    await tab.page.set_viewport_size(TABLET)
    await tab.shot("05-conversation-tablet")
    await tab.page.set_viewport_size(LAPTOP)

    await tab.page.get_by_role("button", name="结束人工服务，交还智能助手").click()
    await expect(tab.page).to_have_url(tab.base + "/console/handoffs")
    await expect(tab.page.locator(".flash.ok")).to_contain_text("交还智能助手")
    await tab.shot("06-handed-back")
    closed = await events(api, "handoff.closed")
    assert [(e["applicant"], e["payload"]["handoff_id"]) for e in closed] == [(APPLICANT, handoff["id"])]
    assert tab.errors == []


async def test_reviewer_approves_the_last_task_and_the_licence_is_issued(
    browser: Browser, api: Api, client: Any
) -> None:
    application = await submitted_with_photos(api, APPLICANT)
    code = application["code"]
    admin = await api.admin()
    # Everyone else has approved already; one department's task is left.
    while True:
        current = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
        open_ = [t for t in current["tasks"] if t["status"] != "approved"]
        pending = [t for t in open_ if t["status"] == "pending"]
        if len(open_) == 1:
            break
        await api.call(
            "POST", f"/tasks/{pending[0]['id']}/decisions", token=admin, json={"decision": "approve"}
        )
    last = pending[0]
    await make_staff(api, "rev_last", "reviewer", department_id=last["department_id"], name="周审批")

    tab = await screen(browser, client)
    await tab.login("rev_last")
    await expect(tab.page).to_have_url(tab.base + "/console/tasks")
    await expect(tab.page.locator("table.tasks")).to_contain_text(code)
    await tab.shot("07-reviewer-tasks")

    await tab.page.get_by_role("link", name="办理").first.click()
    await expect(tab.page).to_have_url(f"{tab.base}/console/tasks/{last['id']}")
    photos = tab.page.locator(".review .thumb img")
    await expect(photos).to_have_count(3)
    for index in range(3):  # the signed file URLs really load
        # Waited for, not read once: on a busy machine a thumbnail may still be on its way when the count
        # is reached (CI failed so once). A broken URL never loads and times out here.
        photo = await photos.nth(index).element_handle()
        await tab.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo)
    await tab.shot("08-reviewer-task")
    await tab.page.set_viewport_size(TABLET)
    await tab.shot("09-reviewer-task-tablet")
    await tab.page.set_viewport_size(LAPTOP)

    # The correction fields appear only for that decision.
    await expect(tab.page.locator("[data-for-decision=request_correction]")).to_be_hidden()
    await tab.page.get_by_label("需要补正材料").check()
    await expect(tab.page.locator("[data-for-decision=request_correction]")).to_be_visible()
    await tab.page.get_by_label("准予许可").check()
    await tab.page.fill("textarea[name=reason]", "材料齐全，准予许可")
    await tab.page.get_by_role("button", name="提交决定").click()
    await expect(tab.page.locator(".flash.ok")).to_contain_text("行业综合许可证已签发")
    await tab.shot("10-reviewer-approved")

    done = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert done["status"] == "completed" and done["licence_number"]
    licence = await api.call("GET", f"/applications/{code}/licence", applicant=APPLICANT)
    assert licence["status"] == "valid"
    issued = await events(api, "licence.issued")
    assert [e["application_code"] for e in issued] == [code]
    audit = (await api.call("GET", f"/audit?target=task:{last['id']}", token=admin))["entries"]
    assert [(e["actor"], e["action"]) for e in audit] == [("staff:rev_last", "task.approve")]
    assert tab.errors == []


async def test_admin_screens(browser: Browser, api: Api, client: Any) -> None:
    application = await submitted_with_photos(api, APPLICANT)
    admin = await api.admin()
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    await api.call(
        "POST", f"/tasks/{registration['id']}/decisions", token=admin, json={"decision": "approve"}
    )
    await api.call(
        "POST", "/handoffs", applicant="web:waiting-person-1", expect=201, json={"reason": "complaint"}
    )
    for score, comment in ((5, "一次就办好了"), (4, "帮办员很耐心"), (2, "等人工太久")):
        applicant = f"web:rater-{score}"
        await api.call(
            "POST", "/ratings", applicant=applicant, expect=201, json={"score": score, "comment": comment}
        )

    tab = await screen(browser, client)
    await tab.login("admin", ADMIN_PASSWORD)
    await expect(tab.page).to_have_url(tab.base + "/console/overview")
    await expect(tab.page.locator(".kpis")).to_contain_text("3.7")
    await expect(tab.page.locator(".timechart")).to_be_visible()
    await tab.shot("11-admin-overview")
    await tab.open("/console/staff")
    await tab.page.select_option("select[name=role]", "reviewer")
    await expect(tab.page.locator("select[name=department_id]")).to_be_visible()
    await tab.shot("12-admin-staff")
    await tab.open("/console/catalog")
    await tab.page.get_by_role("button", name="重新加载目录").click()
    await expect(tab.page.locator(".flash.ok")).to_contain_text("目录已重新加载")
    await tab.shot("13-admin-catalog")
    await tab.open("/console/audit")
    await expect(tab.page.locator("table.audit")).to_contain_text("准予许可")
    await tab.shot("14-admin-audit")
    await tab.open("/console/handoffs")
    await tab.page.set_viewport_size(TABLET)
    await tab.shot("15-queue-tablet")
    assert tab.errors == []
