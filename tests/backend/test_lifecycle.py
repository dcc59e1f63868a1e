"""A 饭店 application driven through the HTTP API only, from checklist to cancellation, on SQLite and
PostgreSQL, with the events it emitted checked in order (also in the Redis Stream)."""

import asyncio
from typing import Any

import redis.asyncio as aioredis

from tests.backend.conftest import Api

APPLICANT = "wechat:oRestaurantOwner01"
INFO = {
    "operator_name": "临沂老王火锅店",
    "legal_representative": "王大明",
    "address": "临沂市兰山区通达路 88 号",
    "phone": "13800138000",
}


def default_answer(question: dict[str, Any]) -> Any:
    if question["type"] == "bool":
        return True
    if question["type"] == "choice":
        return question["options"][0]["id"]
    low = question.get("min") or 0
    return max(low, 120)


async def answer_everything(api: Api, package_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Answer the progressive questions one round at a time, as the assistant does."""
    answers: dict[str, Any] = {}
    for _ in range(20):
        checklist = await api.call("POST", "/checklists", json={"package_id": package_id, "answers": answers})
        if not checklist["unanswered"]:
            return answers, checklist
        for question in checklist["unanswered"]:
            answers[question["id"]] = default_answer(question)
    raise AssertionError("questions never ran out")


async def restaurant_package(api: Api) -> dict[str, Any]:
    packages = (await api.call("GET", "/catalog/packages"))["packages"]
    return next(p for p in packages if "饭店" in p["name"] or "饭店" in p.get("aliases", []))


async def draft(api: Api, applicant: str, info: dict[str, str] = INFO) -> dict[str, Any]:
    """A restaurant application with every question answered and no material yet."""
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    return dict(
        await api.call(
            "POST",
            "/applications",
            applicant=applicant,
            expect=201,
            json={"package_id": package["id"], "answers": answers, "applicant": info},
        )
    )


async def approve_all(api: Api, tokens: dict[str, str], code: str) -> None:
    """Approve the open tasks department by department, registration first, until none is left."""
    for _ in range(10):
        application = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
        pending = [t for t in application["tasks"] if t["status"] in ("pending", "inspection_scheduled")]
        if not pending:
            return
        for task in pending:
            token = await reviewer(api, tokens, task["department_id"])
            await api.call(
                "POST", f"/tasks/{task['id']}/decisions", token=token, json={"decision": "approve"}
            )
    raise AssertionError("tasks never finished")


async def reviewer(api: Api, tokens: dict[str, str], department_id: str) -> str:
    if department_id not in tokens:
        tokens[department_id] = await api.reviewer(department_id, f"rev{len(tokens)}")
    return tokens[department_id]


async def supply(
    api: Api, code: str, materials: list[dict[str, Any]], *, skip: set[str] = frozenset()
) -> None:
    for material in materials:
        if material["material_id"] not in skip:
            await api.call(
                "POST",
                f"/applications/{code}/materials",
                applicant=APPLICANT,
                json={"material_id": material["material_id"], "note": "原件已拍照"},
            )


async def test_restaurant_lifecycle(api: Api, settings: Any) -> None:
    package = await restaurant_package(api)
    answers, checklist = await answer_everything(api, package["id"])
    assert any("营业执照" in lic["licence_name"] for lic in checklist["licences"])
    material_ids = [m["material_id"] for m in checklist["materials"]]
    assert len(material_ids) == len(set(material_ids)), "a shared material must appear once"

    created = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        headers={"Idempotency-Key": "create-1"},
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    again = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        headers={"Idempotency-Key": "create-1"},
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    assert again["code"] == created["code"]
    code = created["code"]
    assert created["status"] == "draft"

    key_materials = [m for m in created["materials"] if m["key"]]
    optional = [m for m in created["materials"] if not m["key"]]
    held_back = key_materials[-1]
    await supply(
        api,
        code,
        created["materials"],
        skip={held_back["material_id"]} | {m["material_id"] for m in optional[:1]},
    )
    if optional:
        committed = await api.call(
            "POST",
            f"/applications/{code}/commitments",
            applicant=APPLICANT,
            json={"material_id": optional[0]["material_id"], "kind": "later"},
        )
        item = next(m for m in committed["materials"] if m["material_id"] == optional[0]["material_id"])
        assert item["status"] == "committed" and item["commitment_deadline"]

    first = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert first["status"] == "needs_correction"
    notice = first["correction_notice"]
    assert [i["material_id"] for i in notice["items"]] == [held_back["material_id"]]
    assert held_back["name"] in notice["message"]

    await supply(api, code, [held_back])
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert accepted["status"] == "accepted", accepted
    tasks = accepted["tasks"]
    assert len(tasks) == len(checklist["licences"]) >= 2
    registration = [t for t in tasks if "营业执照" in t["licence_name"]]
    assert len(registration) == 1 and registration[0]["status"] == "pending" and registration[0]["due_date"]
    assert {t["status"] for t in tasks if t not in registration} == {"waiting"}

    tokens: dict[str, str] = {}
    reg_token = await reviewer(api, tokens, registration[0]["department_id"])
    await api.call(
        "POST", f"/tasks/{registration[0]['id']}/decisions", token=reg_token, json={"decision": "approve"}
    )
    in_review = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert in_review["status"] == "in_review"
    others = [t for t in in_review["tasks"] if t["id"] != registration[0]["id"]]
    assert all(t["status"] == "pending" and t["due_date"] for t in others)

    # One department asks for a correction of one material; the others keep working in parallel.
    target = others[0]
    problem_material = next(m for m in in_review["materials"] if m["status"] == "provided")
    token = await reviewer(api, tokens, target["department_id"])
    await api.call(
        "POST",
        f"/tasks/{target['id']}/decisions",
        token=token,
        json={
            "decision": "request_correction",
            "reason": "材料不清晰",
            "problems": [{"material_id": problem_material["material_id"], "problem": "照片模糊，请重新拍摄"}],
        },
    )
    corrected = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert corrected["status"] == "needs_correction"
    item = next(m for m in corrected["materials"] if m["material_id"] == problem_material["material_id"])
    assert item["status"] == "needs_reupload" and item["problem"] == "照片模糊，请重新拍摄"
    refused = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT, expect=409)
    assert problem_material["name"] in refused["error"]["message"]
    await supply(api, code, [problem_material])
    resubmitted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert resubmitted["status"] == "in_review"
    assert next(t for t in resubmitted["tasks"] if t["id"] == target["id"])["round"] == 2

    await approve_all(api, tokens, code)
    done = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert done["status"] == "completed" and done["licence_number"]
    licence = await api.call("GET", f"/applications/{code}/licence", applicant=APPLICANT)
    assert licence["status"] == "valid" and licence["address"] == INFO["address"]
    assert {p["licence_name"] for p in licence["permits"]} == {t["licence_name"] for t in done["tasks"]}
    assert {p["status_label"] for p in licence["permits"]} == {"有效"}

    # 联合变更: a new address, every permit re-recorded, the same licence record updated.
    change = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={
            "operation": "change",
            "licence_number": licence["number"],
            "changes": {"address": "临沂市北城新区 1 号"},
        },
    )
    await supply(api, change["code"], change["materials"])
    assert (await api.call("POST", f"/applications/{change['code']}/submit", applicant=APPLICANT))[
        "status"
    ] == "accepted"
    await approve_all(api, tokens, change["code"])
    changed = await api.call("GET", f"/licences/{licence['number']}", applicant=APPLICANT)
    assert changed["address"] == "临沂市北城新区 1 号" and changed["revision"] == 2
    assert {p["status_label"] for p in changed["permits"]} == {"已变更"}

    # 联合注销.
    cancel = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"operation": "cancel", "licence_number": licence["number"]},
    )
    await supply(api, cancel["code"], cancel["materials"])
    await api.call("POST", f"/applications/{cancel['code']}/submit", applicant=APPLICANT)
    await approve_all(api, tokens, cancel["code"])
    cancelled = await api.call("GET", f"/licences/{licence['number']}", applicant=APPLICANT)
    assert cancelled["status_label"] == "已注销"
    assert {p["status_label"] for p in cancelled["permits"]} == {"已注销"}

    events = (await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": "test-service-key"}))[
        "events"
    ]
    opening = [e["type"] for e in events if e["application_code"] == code]
    decided = len(checklist["licences"]) + 1  # every approval plus the one correction request
    assert opening == (
        ["application.created"]
        + ["material.attached"] * (len(material_ids) - 1 - (1 if optional else 0))
        + (["material.committed"] if optional else [])
        + ["application.correction_required", "material.attached", "application.accepted", "task.decided"]
        + ["task.started"] * len(others)
        + ["task.decided", "application.correction_required", "material.attached", "application.resubmitted"]
        + ["task.decided"] * (decided - 2)
        + ["application.completed", "licence.issued"]
    )
    assert [e["type"] for e in events if e["application_code"] == change["code"]][-2:] == [
        "application.completed",
        "licence.changed",
    ]
    assert [e["type"] for e in events if e["application_code"] == cancel["code"]][-2:] == [
        "application.completed",
        "licence.cancelled",
    ]
    assert all(e["applicant"] == APPLICANT for e in events)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)

    # The relay publishes the same events, in the same order, to the Redis Stream.
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        for _ in range(100):
            entries = await redis.xrange(settings.events_stream)
            if len(entries) == len(events):
                break
            await asyncio.sleep(0.05)
        assert [int(fields["id"]) for _, fields in entries] == ids
        assert [fields["type"] for _, fields in entries] == [e["type"] for e in events]
    finally:
        await redis.aclose()
