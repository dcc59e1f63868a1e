"""Materials after acceptance: what was promised for later (容缺后补) can still be delivered, as a file, until
the promise is kept — also once the licence is issued — and nothing else can; a department's correction
request cannot be answered with a promise, and the first file handed in for it replaces the one asked for."""

from datetime import date
from typing import Any

from backend import commitments, files
from backend.db import begin_write
from backend.keys import DOMAIN, SESSIONMAKER
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.materials import corpus
from tests.backend.test_files_api import get, upload
from tests.backend.test_lifecycle import APPLICANT, approve_all, draft, reviewer


async def accepted_with_promises(api: Api, promised: int = 2) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A restaurant accepted with every key material in and `promised` non-key ones promised for later."""
    created = await draft(api, APPLICANT)
    code = created["code"]
    later = [m for m in created["materials"] if not m["key"]][:promised]
    assert len(later) == promised
    for material in created["materials"]:
        if material in later:
            path, body = "commitments", {"material_id": material["material_id"], "kind": "later"}
        else:
            path, body = "materials", {"material_id": material["material_id"]}
        await api.call("POST", f"/applications/{code}/{path}", applicant=APPLICANT, json=body)
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert accepted["status"] == "accepted"
    return accepted, later


async def attach(
    api: Api, code: str, material_id: str, file_id: str | None = None, *, expect: int = 200
) -> Any:
    """Hands in a material as the applicant (with a file, when `file_id` is given)."""
    body = {"material_id": material_id} | ({"file_id": file_id} if file_id is not None else {})
    return await api.call(
        "POST", f"/applications/{code}/materials", applicant=APPLICANT, json=body, expect=expect
    )


def material(application: dict[str, Any], material_id: str) -> dict[str, Any]:
    return next(m for m in application["materials"] if m["material_id"] == material_id)


async def photo(api: Api) -> str:
    return str((await upload(api, corpus.phone_jpeg(), applicant=APPLICANT))["file_id"])


async def page(api: Api) -> str:
    """A photo of a page of its own (the sensor noise differs each time, so the file id does too)."""
    data = corpus.encode(corpus.document_photo((1600, 1200)), quality=90)
    return str((await upload(api, data, applicant=APPLICANT))["file_id"])


async def events_of(api: Api, code: str, type_: str) -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["application_code"] == code and e["type"] == type_]


async def test_a_promised_material_is_delivered_after_acceptance(api: Api, client: Any) -> None:
    accepted, (first, second) = await accepted_with_promises(api)
    code = accepted["code"]
    promised_by = material(accepted, first["material_id"])["commitment_deadline"]
    assert promised_by

    # Without a file nothing is delivered: the departments need to see it.
    refused = await attach(api, code, first["material_id"], expect=422)
    assert refused["error"]["code"] == "file_required" and first["name"] in refused["error"]["message"]

    file_id = await photo(api)
    delivered = await attach(api, code, first["material_id"], file_id)
    assert delivered["status"] == "accepted"
    item = material(delivered, first["material_id"])
    assert item["status"] == "provided" and item["status_label"] == "已提交"
    assert item["commitment"] is None and item["commitment_deadline"] is None
    assert item["file_ids"] == [file_id] and item["files"][0]["url"]
    still = material(delivered, second["material_id"])
    assert still["status"] == "committed" and still["commitment_deadline"]
    [event] = await events_of(api, code, "material.delivered")
    assert event["applicant"] == APPLICANT
    assert event["payload"] == {
        "material_id": first["material_id"],
        "material_name": first["name"],
        "file_id": file_id,
        "deadline": promised_by,
    }

    # The department's reviewer sees the delivered file with the application.
    task = next(t for t in delivered["tasks"] if t["status"] == "pending")
    tokens: dict[str, str] = {}
    token = await reviewer(api, tokens, task["department_id"])
    seen = await api.call("GET", f"/tasks/{task['id']}/application", token=token)
    seen_item = material(seen, first["material_id"])
    assert seen_item["status"] == "provided" and seen_item["files"][0]["file_id"] == file_id

    # Reminders ask only for what is still owed (both promises were due the same day).
    domain = client.app[DOMAIN]
    async with client.app[SESSIONMAKER]() as session:
        await begin_write(session)
        day = date.fromisoformat(still["commitment_deadline"])
        assert await commitments.send_due_reminders(session, domain=domain, today=day) == 1
    [reminder] = await events_of(api, code, "commitment.due_soon")
    assert reminder["payload"]["material_id"] == second["material_id"]

    # Once the licence is issued the promise still stands, so the last one can still be delivered.
    await approve_all(api, tokens, code)
    done = await attach(api, code, second["material_id"], await photo(api))
    assert done["status"] == "completed"
    assert {m["status"] for m in done["materials"]} == {"provided"}
    assert len(await events_of(api, code, "material.delivered")) == 2


async def test_only_promised_materials_are_taken_after_acceptance(api: Api) -> None:
    accepted, (later,) = await accepted_with_promises(api, promised=1)
    code = accepted["code"]
    provided = next(m for m in accepted["materials"] if m["status"] == "provided")
    file_id = await photo(api)
    refused = await attach(api, code, provided["material_id"], file_id, expect=409)
    assert refused["error"]["code"] == "material_not_committed"
    assert refused["error"]["message"] == (
        f"申请当前为“已受理”，只需补交承诺容缺后补的材料，“{provided['name']}”无需再提交"
    )
    # Delivered once, it is no longer owed.
    await attach(api, code, later["material_id"], file_id)
    again = await attach(api, code, later["material_id"], await photo(api), expect=409)
    assert again["error"]["code"] == "material_not_committed"
    unknown = await attach(api, code, "no_such_material", file_id, expect=422)
    assert unknown["error"]["code"] == "unknown_material"
    # Nor can a new promise be made once accepted.
    await api.call(
        "POST",
        f"/applications/{code}/commitments",
        applicant=APPLICANT,
        json={"material_id": provided["material_id"], "kind": "later"},
        expect=409,
    )
    assert len(await events_of(api, code, "material.delivered")) == 1


async def test_nothing_is_taken_after_a_refusal(api: Api) -> None:
    accepted, (later,) = await accepted_with_promises(api, promised=1)
    code = accepted["code"]
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    token = await reviewer(api, {}, task["department_id"])
    await api.call(
        "POST",
        f"/tasks/{task['id']}/decisions",
        token=token,
        json={"decision": "reject", "reason": "经营场所不符合要求"},
    )
    refused = await attach(api, code, later["material_id"], await photo(api), expect=409)
    assert refused["error"]["code"] == "invalid_state"
    assert refused["error"]["message"] == "申请当前为“不予许可”，暂不需要提交材料"
    current = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert material(current, later["material_id"])["status"] == "committed"
    assert await events_of(api, code, "material.delivered") == []


async def test_a_correction_request_is_answered_with_the_material_not_a_promise(api: Api) -> None:
    accepted, (later,) = await accepted_with_promises(api, promised=1)
    code = accepted["code"]
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    asked = next(m for m in accepted["materials"] if m["status"] == "provided" and not m["key"])
    token = await reviewer(api, {}, task["department_id"])
    await api.call(
        "POST",
        f"/tasks/{task['id']}/decisions",
        token=token,
        json={
            "decision": "request_correction",
            "problems": [{"material_id": asked["material_id"], "problem": "照片模糊，请重新拍摄"}],
        },
    )
    refused = await api.call(
        "POST",
        f"/applications/{code}/commitments",
        applicant=APPLICANT,
        json={"material_id": asked["material_id"], "kind": "later"},
        expect=422,
    )
    assert refused["error"]["code"] == "correction_requested"
    assert asked["name"] in refused["error"]["message"]
    await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT, expect=409)

    # While the correction is open, the promised material can be delivered too (as a file), and counts as
    # delivered.
    bare = await attach(api, code, later["material_id"], expect=422)
    assert bare["error"]["code"] == "file_required"
    for material_id in (asked["material_id"], later["material_id"]):
        await attach(api, code, material_id, await photo(api))
    [event] = await events_of(api, code, "material.delivered")
    assert event["payload"]["material_id"] == later["material_id"]
    resubmitted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert resubmitted["status"] == "in_review"
    assert {m["status"] for m in resubmitted["materials"]} == {"provided"}


async def test_the_first_file_after_a_correction_request_replaces_the_files_asked_for(
    api: Api, settings: Settings
) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    asked, other = (m["material_id"] for m in created["materials"][:2])
    old_pages = [await page(api), await page(api)]
    for file_id in old_pages:
        await attach(api, code, asked, file_id)
    other_pages = [await page(api)]
    await attach(api, code, other, other_pages[0])
    for item in created["materials"][2:]:
        await attach(api, code, item["material_id"])
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert accepted["status"] == "accepted"
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    token = await reviewer(api, {}, task["department_id"])
    decisions = f"/tasks/{task['id']}/decisions"
    problem = {"material_id": asked, "problem": "第二页反光，看不清"}
    await api.call(
        "POST", decisions, token=token, json={"decision": "request_correction", "problems": [problem]}
    )
    current = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert material(current, asked)["status"] == "needs_reupload"
    # The task says which files were found wanting: they leave the material, not the record.
    [wanting] = next(t for t in current["tasks"] if t["id"] == task["id"])["problems"]
    assert wanting["file_ids"] == old_pages

    # A note alone hands in no file: the files asked for stand.
    noted = await api.call(
        "POST",
        f"/applications/{code}/materials",
        applicant=APPLICANT,
        json={"material_id": asked, "note": "原件已重新拍照"},
    )
    assert material(noted, asked)["file_ids"] == old_pages

    # The first new file takes the place of the files asked for ...
    first, second = await page(api), await page(api)
    replaced = material(await attach(api, code, asked, first), asked)
    assert replaced["file_ids"] == [first] and [f["file_id"] for f in replaced["files"]] == [first]
    assert (replaced["status"], replaced["problem"]) == ("provided", None)
    # ... and the ones after it are further pages, as on any material; so are new pages of a material
    # nobody asked for.
    added = material(await attach(api, code, asked, second), asked)
    assert added["file_ids"] == [first, second]
    more = await page(api)
    assert material(await attach(api, code, other, more), other)["file_ids"] == [*other_pages, more]
    attached = [
        e for e in await events_of(api, code, "material.attached") if e["payload"]["material_id"] == asked
    ]
    superseded = [e["payload"].get("superseded_file_ids") for e in attached]
    assert superseded == [None, None, None, old_pages, None]

    # Nothing is deleted: the files asked for are still stored and can be read.
    for file_id in old_pages:
        status, _, content = await get(api, files.url_for(settings, file_id, subject=APPLICANT))
        assert status == 200 and content

    # Handed in again, the department sees only the new pages; asked again, the next file replaces those.
    resubmitted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert resubmitted["status"] == "in_review"
    seen = await api.call("GET", f"/tasks/{task['id']}/application", token=token)
    assert material(seen, asked)["file_ids"] == [first, second]
    await api.call(
        "POST", decisions, token=token, json={"decision": "request_correction", "problems": [problem]}
    )
    third = await page(api)
    assert material(await attach(api, code, asked, third), asked)["file_ids"] == [third]
    [*_, last] = await events_of(api, code, "material.attached")
    assert last["payload"]["superseded_file_ids"] == [first, second]


# --- poor photos and their retakes; taking a file back --------------------------------------------------


async def poor_photo(api: Api) -> str:
    """Out of focus and dim: kept, with quality warnings (a file id of its own each time)."""
    uploaded = await upload(api, corpus.dim_blurry_jpeg(), applicant=APPLICANT)
    assert len(uploaded["warnings"]) == 2
    return str(uploaded["file_id"])


async def test_a_sharp_retake_replaces_photos_that_all_came_with_warnings(
    api: Api, settings: Settings
) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    blurred, mixed = (m["material_id"] for m in created["materials"][:2])

    # A poor photo, and another one: a second page as any, since the retake is no better.
    first, second = await poor_photo(api), await poor_photo(api)
    await attach(api, code, blurred, first)
    assert material(await attach(api, code, blurred, second), blurred)["file_ids"] == [first, second]
    # The sharp retake takes the place of every poor one: reviewers see it instead, not beside them.
    sharp = await page(api)
    item = material(await attach(api, code, blurred, sharp), blurred)
    assert item["file_ids"] == [sharp] and item["status"] == "provided"
    assert [(f["file_id"], f["warnings"]) for f in item["files"]] == [(sharp, [])]
    attached = [
        e for e in await events_of(api, code, "material.attached") if e["payload"]["material_id"] == blurred
    ]
    assert [e["payload"].get("superseded_file_ids") for e in attached] == [None, None, [first, second]]
    # Further sharp pages are pages again.
    more = await page(api)
    assert material(await attach(api, code, blurred, more), blurred)["file_ids"] == [sharp, more]
    # Nothing was deleted from storage.
    for file_id in (first, second):
        status, _, content = await get(api, files.url_for(settings, file_id, subject=APPLICANT))
        assert status == 200 and content

    # A material holding a sharp page too keeps its poor page: the sharp photo is one more page.
    clear, poor = await page(api), await poor_photo(api)
    await attach(api, code, mixed, clear)
    await attach(api, code, mixed, poor)
    another = await page(api)
    assert material(await attach(api, code, mixed, another), mixed)["file_ids"] == [clear, poor, another]
    mixed_events = [
        e for e in await events_of(api, code, "material.attached") if e["payload"]["material_id"] == mixed
    ]
    assert all("superseded_file_ids" not in e["payload"] for e in mixed_events)


def file_path(code: str, material_id: str, file_id: str) -> str:
    return f"/applications/{code}/materials/{material_id}/files/{file_id}"


async def remove(api: Api, code: str, material_id: str, file_id: str, *, expect: int = 200) -> Any:
    return await api.call("DELETE", file_path(code, material_id, file_id), applicant=APPLICANT, expect=expect)


async def test_a_file_sent_by_mistake_is_taken_back_before_acceptance(api: Api, settings: Settings) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    first_material = created["materials"][0]
    material_id = first_material["material_id"]
    front, back = await page(api), await page(api)
    await attach(api, code, material_id, front)
    await attach(api, code, material_id, back)

    kept = material(await remove(api, code, material_id, front), material_id)
    assert kept["file_ids"] == [back] and kept["status"] == "provided"
    # Taken back once, it is not there to take back again.
    gone = await remove(api, code, material_id, front, expect=404)
    assert gone["error"]["code"] == "not_found"

    # Submitted incomplete, the one-time notice is out and nothing was accepted: still the applicant's to fix.
    notice = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert notice["status"] == "needs_correction" and notice["tasks"] == []
    emptied = material(await remove(api, code, material_id, back), material_id)
    assert (emptied["status"], emptied["status_label"], emptied["file_ids"]) == ("missing", "未提交", [])
    current = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert first_material["key"] and material_id in current["missing_key_materials"]

    removed = await events_of(api, code, "material.file_removed")
    assert [e["payload"] for e in removed] == [
        {
            "material_id": material_id,
            "material_name": first_material["name"],
            "file_id": front,
            "status": "provided",
            "file_ids": [back],
        },
        {
            "material_id": material_id,
            "material_name": first_material["name"],
            "file_id": back,
            "status": "missing",
            "file_ids": [],
        },
    ]
    assert all(e["applicant"] == APPLICANT for e in removed)
    admin = await api.admin()
    [entry] = (await api.call("GET", f"/audit?target=file:{front}", token=admin))["entries"]
    assert entry["action"] == "material.file_removed" and entry["actor"] == f"applicant:{APPLICANT}"
    # The material let go of the files; storage did not.
    for file_id in (front, back):
        status, _, content = await get(api, files.url_for(settings, file_id, subject=APPLICANT))
        assert status == 200 and content


async def test_taking_a_file_back_answers_404_for_what_is_not_the_callers(api: Api) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    material_id = created["materials"][0]["material_id"]
    file_id = await page(api)
    await attach(api, code, material_id, file_id)
    other_material = created["materials"][1]["material_id"]
    for path in (
        file_path("ZL-20250101-000000", material_id, file_id),
        file_path("not-a-code", material_id, file_id),
        file_path(code, "no_such_material", file_id),
        file_path(code, other_material, file_id),
        file_path(code, material_id, "no-such-file"),
    ):
        refused = await api.call("DELETE", path, applicant=APPLICANT, expect=404)
        assert refused["error"]["code"] == "not_found", path
    # Someone else's application answers as a missing one, and stays as it was.
    stranger = await api.call(
        "DELETE", file_path(code, material_id, file_id), applicant="web:someone-else-1", expect=404
    )
    assert stranger["error"]["message"] == "未找到该申请，请核对统一编码"
    await api.call("DELETE", file_path(code, material_id, file_id), expect=401)
    current = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert material(current, material_id)["file_ids"] == [file_id]
    assert await events_of(api, code, "material.file_removed") == []

    document = await api.call("GET", "/openapi.json")
    operation = document["paths"]["/api/v1/applications/{code}/materials/{material_id}/files/{file_id}"]
    assert operation["delete"]["operationId"] == "remove_material_file"
    assert [p["name"] for p in operation["delete"]["parameters"]] == ["code", "material_id", "file_id"]


async def test_after_acceptance_only_a_file_handed_in_for_a_correction_request_is_taken_back(
    api: Api,
) -> None:
    created = await draft(api, APPLICANT)
    code = created["code"]
    asked, other = created["materials"][:2]
    asked_id = asked["material_id"]
    old_pages = [await page(api), await page(api)]
    for file_id in old_pages:
        await attach(api, code, asked_id, file_id)
    other_page = await page(api)
    await attach(api, code, other["material_id"], other_page)
    for item in created["materials"][2:]:
        await attach(api, code, item["material_id"])
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert accepted["status"] == "accepted"

    refused = await remove(api, code, asked_id, old_pages[0], expect=409)
    assert refused["error"] == {
        "code": "invalid_state",
        "message": "申请当前为“已受理”，材料已交审批部门，文件不能再删除",
        "field": None,
    }

    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    token = await reviewer(api, {}, task["department_id"])
    problem = {"material_id": asked_id, "problem": "第二页反光，看不清"}
    await api.call(
        "POST",
        f"/tasks/{task['id']}/decisions",
        token=token,
        json={"decision": "request_correction", "problems": [problem]},
    )
    # What the department reviewed stays: the files found wanting, and a material nobody asked for.
    reviewed = (await remove(api, code, asked_id, old_pages[1], expect=409))["error"]
    assert reviewed["code"] == "invalid_state"
    assert "审批部门审核过" in reviewed["message"] and "直接上传新的照片" in reviewed["message"]
    not_asked = (await remove(api, code, other["material_id"], other_page, expect=409))["error"]
    assert not_asked["message"] == f"审批部门没有要求重新提交“{other['name']}”，已交审批部门的文件不能再删除"

    # The file handed in again can be taken back: the material is asked for again, as before it.
    wrong = await page(api)
    assert material(await attach(api, code, asked_id, wrong), asked_id)["file_ids"] == [wrong]
    back = material(await remove(api, code, asked_id, wrong), asked_id)
    assert (back["status"], back["problem"], back["file_ids"]) == (
        "needs_reupload",
        problem["problem"],
        old_pages,
    )
    still = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT, expect=409)
    assert still["error"]["code"] == "materials_still_missing"

    # The right file replaces the files found wanting, as the first file after the request does.
    right = await page(api)
    assert material(await attach(api, code, asked_id, right), asked_id)["file_ids"] == [right]
    [*_, last] = await events_of(api, code, "material.attached")
    assert last["payload"]["superseded_file_ids"] == old_pages
    resubmitted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert resubmitted["status"] == "in_review"
    late = (await remove(api, code, asked_id, right, expect=409))["error"]
    assert late["message"] == "申请当前为“审批中”，材料已交审批部门，文件不能再删除"
    assert [e["payload"]["file_id"] for e in await events_of(api, code, "material.file_removed")] == [wrong]
