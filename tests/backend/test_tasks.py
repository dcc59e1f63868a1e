"""Department tasks: concurrent decisions stay consistent, overdue tasks are listed, decisions are audited."""

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from backend.keys import SESSIONMAKER
from backend.models import DepartmentTask
from tests.backend.conftest import Api
from tests.backend.test_lifecycle import INFO, answer_everything, restaurant_package

APPLICANT = "miniprogram:oTasksOwner0000000001"


async def accepted_application(api: Api, package_id: str | None = None) -> dict[str, Any]:
    package_id = package_id or (await restaurant_package(api))["id"]
    answers, _ = await answer_everything(api, package_id)
    created = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": package_id, "answers": answers, "applicant": INFO},
    )
    for material in created["materials"]:
        await api.call(
            "POST",
            f"/applications/{created['code']}/materials",
            applicant=APPLICANT,
            json={"material_id": material["material_id"]},
        )
    return await api.call("POST", f"/applications/{created['code']}/submit", applicant=APPLICANT)


async def test_concurrent_last_approvals_issue_one_licence(api: Api) -> None:
    # A cinema needs registration plus two permits from two departments (hygiene, fire safety).
    application = await accepted_application(api, "cinema")
    code = application["code"]
    admin = await api.admin()
    registration = next(t for t in application["tasks"] if t["status"] == "pending")
    await api.call(
        "POST", f"/tasks/{registration['id']}/decisions", token=admin, json={"decision": "approve"}
    )
    others = [t for t in application["tasks"] if t["id"] != registration["id"]]
    assert len(others) >= 2

    async def approve(task: dict[str, Any]) -> int:
        response = await api.client.post(
            f"/api/v1/tasks/{task['id']}/decisions",
            json={"decision": "approve"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        return response.status

    # Every remaining task approved at once, twice each: one approval per task wins, the rest are refused.
    statuses = await asyncio.gather(*(approve(t) for t in others + others))
    assert sorted(statuses) == [200] * len(others) + [409] * len(others)
    done = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert done["status"] == "completed"
    licences = (await api.call("GET", "/licences", applicant=APPLICANT))["licences"]
    assert len(licences) == 1
    events = (await api.call("GET", "/events?limit=1000", headers=api.applicant_headers(APPLICANT)))["events"]
    types = [e["type"] for e in events if e["application_code"] == code]
    assert types.count("licence.issued") == 1 and types.count("application.completed") == 1
    assert types.count("task.decided") == len(others) + 1


async def test_overdue_tasks_are_listed_first(api: Api, client: Any) -> None:
    application = await accepted_application(api)
    pending = next(t for t in application["tasks"] if t["status"] == "pending")
    async with client.app[SESSIONMAKER]() as session:
        await session.execute(
            update(DepartmentTask)
            .where(DepartmentTask.id == pending["id"])
            .values(due_date=date.today() - timedelta(days=3))
        )
        await session.commit()
    reviewer = await api.reviewer(pending["department_id"])
    overdue = (await api.call("GET", "/tasks?overdue=true", token=reviewer))["tasks"]
    assert [t["id"] for t in overdue] == [pending["id"]]
    assert overdue[0]["overdue"] is True
    everything = (await api.call("GET", "/tasks", token=reviewer))["tasks"]
    assert everything[0]["id"] == pending["id"]
    await api.call("GET", "/tasks?status=nonsense", token=reviewer, expect=422)
    mine = await api.call("GET", f"/applications/{application['code']}", applicant=APPLICANT)
    assert next(t for t in mine["tasks"] if t["id"] == pending["id"])["overdue"] is True


async def test_decisions_are_validated_and_audited(api: Api) -> None:
    application = await accepted_application(api)
    task = next(t for t in application["tasks"] if t["status"] == "pending")
    waiting = next(t for t in application["tasks"] if t["status"] == "waiting")
    admin = await api.admin()
    reviewer = await api.reviewer(task["department_id"])
    path = f"/tasks/{task['id']}/decisions"
    body = await api.call("POST", path, token=reviewer, json={"decision": "reject"}, expect=422)
    assert body["error"]["field"] == "body.reason"
    body = await api.call(
        "POST",
        path,
        token=reviewer,
        expect=422,
        json={"decision": "schedule_inspection", "inspection_date": "2001-01-01"},
    )
    assert body["error"]["field"] == "body.inspection_date"
    await api.call("POST", path, token=reviewer, json={"decision": "request_correction"}, expect=422)
    await api.call(
        "POST", "/tasks/999999/decisions", token=reviewer, json={"decision": "approve"}, expect=404
    )
    await api.call("POST", "/tasks/abc/decisions", token=reviewer, json={"decision": "approve"}, expect=422)
    body = await api.call(
        "POST", f"/tasks/{waiting['id']}/decisions", token=admin, json={"decision": "approve"}, expect=409
    )
    assert "营业执照" in body["error"]["message"]

    inspection_day = (date.today() + timedelta(days=7)).isoformat()
    decided = await api.call(
        "POST",
        path,
        token=reviewer,
        json={"decision": "schedule_inspection", "inspection_date": inspection_day, "reason": "联合踏勘"},
    )
    assert decided["status"] == "inspection_scheduled" and decided["status_label"] == "待现场核查"
    await api.call("POST", path, token=reviewer, json={"decision": "reject", "reason": "现场不符合卫生要求"})
    rejected = await api.call("GET", f"/applications/{application['code']}", applicant=APPLICANT)
    assert rejected["status"] == "rejected" and rejected["status_label"] == "不予许可"

    audit = (await api.call("GET", f"/audit?target=task:{task['id']}", token=admin))["entries"]
    assert [e["action"] for e in audit] == ["task.reject", "task.schedule_inspection"]
    assert audit[0]["detail"]["reason"] == "现场不符合卫生要求"
    assert all(e["actor"].startswith("staff:rev_") for e in audit)
