"""What the console shows reviewers and managers about an application's course: rows told apart in the
overview, 容缺 materials overdue or newly delivered, the day of an inspection, and photos that came with
quality warnings."""

import re
from datetime import date, timedelta
from typing import Any

from tests.backend.conftest import ADMIN_PASSWORD, Api
from tests.backend.test_applications import APPLICANT as MATERIALS_APPLICANT
from tests.backend.test_applications import accepted_with_promises, attach, page, photo, poor_photo
from tests.backend.test_console import ConsoleFactory, signed_in
from tests.backend.test_console import console as console  # the console fixture, shared by import
from tests.backend.test_lifecycle import draft
from tests.backend.test_tasks import APPLICANT, accepted_application


async def approve_all(api: Api, application: dict[str, Any]) -> None:
    token = await api.admin()
    for _ in range(3):  # registration first, then the departments that waited for it
        current = await api.call("GET", f"/applications/{application['code']}", applicant=APPLICANT)
        for task in current["tasks"]:
            if task["status"] == "pending":
                await api.call(
                    "POST", f"/tasks/{task['id']}/decisions", token=token, json={"decision": "approve"}
                )


async def test_overview_tells_apart_matters_issuing_a_licence_of_the_same_name(
    console: ConsoleFactory, api: Api
) -> None:
    # A cinema's and a bookstore's 公共场所卫生许可证: one department, one licence name, two matters.
    for package_id in ("cinema", "bookstore"):
        application = await accepted_application(api, package_id)
        await approve_all(api, application)
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get("/console/overview")
    table = admin.last_text[admin.last_text.index('<table class="mini">') :]
    rows = [row.split("</td>")[0] for row in table.split("<tr")[1:] if "公共场所卫生许可证" in row]
    assert sorted(rows) == [
        "><td>公共场所卫生许可证（开办书店）",
        "><td>公共场所卫生许可证（开办影剧院）",
    ]
    assert "<td>营业执照</td>" in table  # a name only one matter issues stays as it is


async def test_a_material_delivered_later_is_news_for_the_reviewers_of_the_tasks_needing_it(
    console: ConsoleFactory, api: Api
) -> None:
    accepted, promised = await accepted_with_promises(api)
    code = accepted["code"]
    token = await api.admin()
    registration = next(t for t in accepted["tasks"] if t["status"] == "pending")
    await api.call(
        "POST", f"/tasks/{registration['id']}/decisions", token=token, json={"decision": "approve"}
    )
    food = next(t for t in accepted["tasks"] if t["id"] != registration["id"])
    delivered = next(m for m in promised if food["matter_id"] in m["needed_by"])
    assert registration["matter_id"] not in delivered["needed_by"]
    await attach(api, code, delivered["material_id"], await photo(api))

    reviewer = await signed_in(
        console, api, "rev_food", "reviewer", department_id=food["department_id"], name="食品审批"
    )
    await reviewer.get("/console/tasks")
    row = next(r for r in reviewer.last_text.split("<tr") if f"/console/tasks/{food['id']}" in r)
    assert "新补交材料" in row and delivered["name"] in row
    path = f"/console/tasks/{food['id']}"
    await reviewer.get(path)
    page = reviewer.last_text
    assert f"受理后新补交的容缺材料：{delivered['name']}" in page
    assert "受理后补交于 " in page and "新补交</span>" in page
    # The task that does not need it (registration, decided before) is not told.
    queue = (await api.call("GET", "/tasks", token=token))["tasks"]
    assert next(t for t in queue if t["id"] == registration["id"])["new_materials"] == []

    await reviewer.post(f"{path}/seen")
    assert "已查看" in (reviewer.flash() or "")
    await reviewer.get(path)
    assert "受理后补交于 " in reviewer.last_text and "新补交</span>" not in reviewer.last_text
    assert "受理后新补交的容缺材料" not in reviewer.last_text
    await reviewer.get("/console/tasks")
    assert "新补交材料" not in reviewer.last_text

    # Approved already, then the other promise kept: back in the reviewer's queue until seen.
    await reviewer.get(path)
    await reviewer.post(f"{path}/decide", {"decision": "approve"})
    [other] = [m for m in promised if m is not delivered]
    assert food["matter_id"] in other["needed_by"]
    await attach(api, code, other["material_id"], await photo(api))
    await reviewer.get("/console/tasks")
    assert f"/console/tasks/{food['id']}" in reviewer.last_text and "新补交材料" in reviewer.last_text
    audit = (await api.call("GET", f"/audit?target=task:{food['id']}", token=token))["entries"]
    assert "task.materials_seen" in [e["action"] for e in audit]


async def test_the_inspection_day_comes_with_its_weekday(console: ConsoleFactory, api: Api) -> None:
    application = await accepted_application(api, "cinema")
    token = await api.admin()
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    await api.call(
        "POST", f"/tasks/{registration['id']}/decisions", token=token, json={"decision": "approve"}
    )
    task = next(t for t in application["tasks"] if t["id"] != registration["id"])
    saturday = date.today() + timedelta(days=7 + (5 - date.today().weekday()) % 7)
    await api.call(
        "POST",
        f"/tasks/{task['id']}/decisions",
        token=token,
        json={"decision": "schedule_inspection", "inspection_date": saturday.isoformat()},
    )
    day = f"{saturday.month}月{saturday.day}日（周六）"
    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get(f"/console/tasks/{task['id']}")
    assert f"现场核查日期：{saturday.year}年{day}" in admin.last_text
    await admin.get("/console/tasks")
    row = next(r for r in admin.last_text.split("<tr") if f"/console/tasks/{task['id']}" in r)
    assert day in row
    seen = await api.call("GET", f"/applications/{application['code']}", applicant=APPLICANT)
    assert next(t for t in seen["tasks"] if t["id"] == task["id"])["inspection_day"] == day


async def test_reviewers_see_the_quality_warnings_beside_the_photo_they_are_about(
    console: ConsoleFactory, api: Api
) -> None:
    created = await draft(api, MATERIALS_APPLICANT)
    code = created["code"]
    shown = created["materials"][0]
    # A sharp page and then a poor one: both stay (only a sharp retake of poor photos replaces them).
    sharp, poor = await page(api), await poor_photo(api)
    for file_id in (sharp, poor):
        await attach(api, code, shown["material_id"], file_id)
    for item in created["materials"][1:]:
        await attach(api, code, item["material_id"])
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=MATERIALS_APPLICANT)
    task = next(t for t in accepted["tasks"] if t["matter_id"] in shown["needed_by"])

    admin = console()
    await admin.login("admin", ADMIN_PASSWORD)
    await admin.get(f"/console/tasks/{task['id']}")
    start = admin.last_text.index(f'<span class="material-name">{shown["name"]}</span>')
    item = admin.last_text[start : admin.last_text.index("</li>\n", start)]
    files = item.split('<div class="file')[1:]
    assert len(files) == 2
    assert files[0].startswith('">') and "file-warnings" not in files[0]
    assert files[1].startswith(' has-warnings">')
    warnings = re.findall(r"<li>([^<]+)</li>", files[1])
    assert len(warnings) == 2 and "模糊" in warnings[0] and "偏暗" in warnings[1]
    assert f'title="{"；".join(warnings)}"' in files[1]
