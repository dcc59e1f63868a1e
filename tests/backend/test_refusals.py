"""A refusal (不予许可) ends the application: the matters not decided yet are closed (终止办理) and leave the
reviewers' queues, the applicant is told once, and can reapply (重新申请) with the same answers, details and
materials."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from backend.keys import SESSIONMAKER
from backend.models import DepartmentTask
from tests.backend.conftest import Api
from tests.backend.test_applications import attach, events_of, material, page, photo
from tests.backend.test_files_api import get
from tests.backend.test_lifecycle import APPLICANT, draft, reviewer
from tests.backend.test_tasks import APPLICANT as CINEMA_APPLICANT
from tests.backend.test_tasks import accepted_application

CLOSED_REASON = "因其他事项不予许可，本事项终止办理"
STRANGER = "web:refusals-stranger-1"


def task(application: dict[str, Any], task_id: int) -> dict[str, Any]:
    return next(t for t in application["tasks"] if t["id"] == task_id)


async def cinema_refused_after_registration(
    api: Api,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A cinema whose registration was approved, then one permit refused: (application, refused, closed)."""
    application = await accepted_application(api, "cinema")
    admin = await api.admin()
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    await api.call(
        "POST", f"/tasks/{registration['id']}/decisions", token=admin, json={"decision": "approve"}
    )
    refused, closed = [t for t in application["tasks"] if t["id"] != registration["id"]]
    await api.call(
        "POST",
        f"/tasks/{refused['id']}/decisions",
        token=await api.reviewer(refused["department_id"]),
        json={"decision": "reject", "reason": "放映厅通风不达标"},
    )
    current = await api.call("GET", f"/applications/{application['code']}", applicant=CINEMA_APPLICANT)
    return current, task(current, refused["id"]), task(current, closed["id"])


async def test_a_refusal_closes_what_is_undecided_and_tells_the_applicant_once(api: Api) -> None:
    application, refused, closed = await cinema_refused_after_registration(api)
    code = application["code"]
    assert application["status"] == "rejected"
    registration = next(t for t in application["tasks"] if t["id"] not in (refused["id"], closed["id"]))
    assert registration["status"] == "approved"  # decided before the refusal: stays approved
    assert (refused["status"], refused["reason"]) == ("rejected", "放映厅通风不达标")
    assert (closed["status"], closed["status_label"], closed["reason"]) == (
        "closed",
        "终止办理",
        CLOSED_REASON,
    )

    [event] = await events_of(api, code, "application.rejected")
    payload = event["payload"]
    assert event["applicant"] == CINEMA_APPLICANT
    assert (payload["licence_name"], payload["department_name"], payload["reason"]) == (
        refused["licence_name"],
        refused["department_name"],
        "放映厅通风不达标",
    )
    assert [m["licence_name"] for m in payload["closed"]] == [closed["licence_name"]]
    assert [m["licence_name"] for m in payload["approved"]] == ["营业执照"]
    # The closed matter was not decided by anyone: no decision event of its own.
    decided = [e["payload"]["task_id"] for e in await events_of(api, code, "task.decided")]
    assert closed["id"] not in decided and refused["id"] in decided


async def test_a_closed_task_takes_no_decision_and_leaves_the_queues(api: Api, client: Any) -> None:
    application, _, closed = await cinema_refused_after_registration(api)
    path = f"/tasks/{closed['id']}/decisions"
    token = await api.reviewer(closed["department_id"])
    for body in ({"decision": "approve"}, {"decision": "reject", "reason": "也不行"}):
        refusal = await api.call("POST", path, token=token, json=body, expect=409)
        assert refusal["error"]["code"] == "invalid_state"
        assert "终止办理" in refusal["error"]["message"]
    current = await api.call("GET", f"/applications/{application['code']}", applicant=CINEMA_APPLICANT)
    assert task(current, closed["id"])["status"] == "closed" and current["status"] == "rejected"

    # Even long past its due date it is neither in the queue nor overdue.
    async with client.app[SESSIONMAKER]() as session:
        await session.execute(
            update(DepartmentTask)
            .where(DepartmentTask.id == closed["id"])
            .values(due_date=date.today() - timedelta(days=30))
        )
        await session.commit()
    queue = (await api.call("GET", "/tasks", token=token))["tasks"]
    assert closed["id"] not in [t["id"] for t in queue]
    assert (await api.call("GET", "/tasks?overdue=true", token=token))["tasks"] == []
    asked = (await api.call("GET", "/tasks?status=closed", token=token))["tasks"]
    assert [(t["id"], t["overdue"]) for t in asked] == [(closed["id"], False)]
    current = await api.call("GET", f"/applications/{application['code']}", applicant=CINEMA_APPLICANT)
    assert task(current, closed["id"])["overdue"] is False


async def refused_restaurant(
    api: Api, first_pages: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """A restaurant with a photo for every material but one promised for later (容缺), one photo asked for
    again, then refused at registration: (the refused application, {material id: what it was}).
    `first_pages`: the files handed in for the first key material (`"pages"`), instead of the one photo."""
    created = await draft(api, APPLICANT)
    code = created["code"]
    later = next(m for m in created["materials"] if not m["key"])
    first = next(m for m in created["materials"] if m["key"])
    for item in created["materials"]:
        if item is later:
            await api.call(
                "POST",
                f"/applications/{code}/commitments",
                applicant=APPLICANT,
                json={"material_id": item["material_id"], "kind": "later"},
            )
        elif item is first and first_pages:
            for file_id in first_pages:
                await attach(api, code, item["material_id"], file_id)
        else:
            await attach(api, code, item["material_id"], await photo(api))
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    registration = next(t for t in accepted["tasks"] if t["status"] == "pending")
    asked = next(m for m in accepted["materials"] if m["status"] == "provided")
    token = await reviewer(api, {}, registration["department_id"])
    path = f"/tasks/{registration['id']}/decisions"
    problems = [{"material_id": asked["material_id"], "problem": "照片模糊"}]
    await api.call("POST", path, token=token, json={"decision": "request_correction", "problems": problems})
    await api.call("POST", path, token=token, json={"decision": "reject", "reason": "名称与他人字号重复"})
    refused = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert refused["status"] == "rejected"
    kinds = {"later": later["material_id"], "asked": asked["material_id"], "pages": first["material_id"]}
    return refused, kinds


async def test_reapplying_copies_the_refused_application_into_one_draft(api: Api) -> None:
    refused, kinds = await refused_restaurant(api)
    code = refused["code"]
    # Registration refused first: everything that waited for it was closed.
    assert {t["status"] for t in refused["tasks"]} == {"rejected", "closed"}

    new = await api.call("POST", f"/applications/{code}/reapply", applicant=APPLICANT, expect=201)
    assert new["code"] != code and new["previous_code"] == code
    assert (new["status"], new["tasks"], new["submitted_at"]) == ("draft", [], None)
    for field in ("operation", "package_id", "answers", "applicant"):
        assert new[field] == refused[field], field
    old = {m["material_id"]: m for m in refused["materials"]}
    handed_in = {k for k, m in old.items() if m["file_ids"]}
    # The stored photos are reused, each as freshly handed in (the one asked for again too) ...
    assert {m["material_id"] for m in new["materials"] if m["file_ids"]} == handed_in
    for item in new["materials"]:
        if item["material_id"] in handed_in:
            assert item["file_ids"] == old[item["material_id"]]["file_ids"]
            assert (item["status"], item["problem"]) == ("provided", None)
    assert old[kinds["asked"]]["status"] == "needs_reupload"
    # ... while a promise to supply later is made again for the new application.
    assert old[kinds["later"]]["status"] == "committed"
    assert material(new, kinds["later"])["status"] == "missing"
    [event] = await events_of(api, new["code"], "application.reapplied")
    assert event["payload"]["previous_code"] == code

    again = await api.call("POST", f"/applications/{code}/reapply", applicant=APPLICANT, expect=200)
    assert again["code"] == new["code"]
    mine = (await api.call("GET", "/applications", applicant=APPLICANT))["applications"]
    assert sorted(a["code"] for a in mine) == sorted([code, new["code"]])
    assert len(await events_of(api, new["code"], "application.reapplied")) == 1
    # The original stays as it was: refused, with its own materials.
    original = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert original["status"] == "rejected" and original["previous_code"] is None
    assert [(m["material_id"], m["status"]) for m in original["materials"]] == [
        (m["material_id"], m["status"]) for m in refused["materials"]
    ]

    # Once the new application is submitted, the refused one is not reapplied for a second time.
    await api.call(
        "POST",
        f"/applications/{new['code']}/commitments",
        applicant=APPLICANT,
        json={"material_id": kinds["later"], "kind": "later"},
    )
    submitted = await api.call("POST", f"/applications/{new['code']}/submit", applicant=APPLICANT)
    assert submitted["status"] == "accepted"
    twice = await api.call("POST", f"/applications/{code}/reapply", applicant=APPLICANT, expect=409)
    assert twice["error"]["code"] == "already_reapplied" and new["code"] in twice["error"]["message"]


async def test_only_a_refused_application_of_ones_own_can_be_reapplied(api: Api) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    body = await api.call("POST", f"/applications/{code}/reapply", applicant=APPLICANT, expect=409)
    assert body["error"]["code"] == "invalid_state"
    assert body["error"]["message"] == "申请当前为“草稿”，只有不予许可的申请可以重新申请"

    refused, _ = await refused_restaurant(api)
    # Someone else's code answers exactly as an unknown one does.
    unknown = await api.call("GET", f"/applications/{refused['code']}", applicant=STRANGER, expect=404)
    foreign = await api.call(
        "POST", f"/applications/{refused['code']}/reapply", applicant=STRANGER, expect=404
    )
    assert foreign == unknown
    missing = await api.call(
        "POST", "/applications/ZL-20260101-ABCDEF/reapply", applicant=APPLICANT, expect=404
    )
    assert missing == unknown
    assert (await api.call("GET", "/applications", applicant=STRANGER))["applications"] == []
    mine = (await api.call("GET", "/applications", applicant=APPLICANT))["applications"]
    assert all(a["previous_code"] is None for a in mine)


async def test_the_first_file_after_reapplying_replaces_the_copied_ones(api: Api) -> None:
    old_pages = [await page(api), await page(api)]
    refused, kinds = await refused_restaurant(api, first_pages=old_pages)
    code = refused["code"]
    assert material(refused, kinds["pages"])["file_ids"] == old_pages
    new = await api.call("POST", f"/applications/{code}/reapply", applicant=APPLICANT, expect=201)
    new_code = new["code"]
    assert material(new, kinds["pages"])["file_ids"] == old_pages

    # A note alone hands in no file: the copy stands.
    noted = await api.call(
        "POST",
        f"/applications/{new_code}/materials",
        applicant=APPLICANT,
        json={"material_id": kinds["pages"], "note": "原件在窗口核验"},
    )
    assert material(noted, kinds["pages"])["file_ids"] == old_pages

    # The first new file takes the place of the copied pages ...
    first, second = await page(api), await page(api)
    replaced = material(await attach(api, new_code, kinds["pages"], first), kinds["pages"])
    assert replaced["file_ids"] == [first] and [f["file_id"] for f in replaced["files"]] == [first]
    assert (replaced["status"], replaced["problem"]) == ("provided", None)
    # ... and the ones after it are further pages, as on any material.
    added = material(await attach(api, new_code, kinds["pages"], second), kinds["pages"])
    assert added["file_ids"] == [first, second]
    again = material(await attach(api, new_code, kinds["pages"], first), kinds["pages"])
    assert again["file_ids"] == [first, second]
    attached = await events_of(api, new_code, "material.attached")
    assert [e["payload"].get("superseded_file_ids") for e in attached] == [None, old_pages, None, None]

    # A material that was not copied keeps every page from the start.
    own = [await page(api), await page(api)]
    for file_id in own:
        fresh = await attach(api, new_code, kinds["later"], file_id)
    assert material(fresh, kinds["later"])["file_ids"] == own

    # Nothing is lost: the refused application still shows the copied pages, and they can be read.
    original = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    before = material(original, kinds["pages"])
    assert before["file_ids"] == old_pages
    for stored in before["files"]:
        status, _, content = await get(api, stored["url"])
        assert status == 200 and content
