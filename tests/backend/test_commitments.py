"""容缺: the backend's periodic jobs send `commitment.due_soon` and, once the deadline has passed,
`commitment.overdue` once per promised material; a promise made again keeps its deadline."""

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from backend import commitments
from backend.db import begin_write
from backend.domain import Domain
from backend.keys import DOMAIN, SESSIONMAKER
from backend.models import ApplicationMaterial
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.materials import corpus
from tests.backend.test_files_api import upload
from tests.backend.test_lifecycle import INFO, answer_everything, restaurant_package

APPLICANT = "web:commitment-owner-7"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if "background" in request.node.name:
        # A promise is due in COMMITMENT_WORKING_DAYS (10): remind that far ahead, so it is due soon at once.
        update = {"commitment_reminder_working_days": 10, "reminder_interval_seconds": 0.05}
    else:  # the test runs the job itself, on days of its choosing
        update = {"commitment_reminder_working_days": 2, "reminder_interval_seconds": 3600}
    return settings.model_copy(update=update)


async def application_with_promise(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    created = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    code = created["code"]
    later = next(m for m in created["materials"] if not m["key"])
    await api.call(
        "POST",
        f"/applications/{code}/commitments",
        applicant=APPLICANT,
        json={"material_id": later["material_id"], "kind": "later"},
    )
    for material in created["materials"]:
        if material["material_id"] != later["material_id"]:
            await api.call(
                "POST",
                f"/applications/{code}/materials",
                applicant=APPLICANT,
                json={"material_id": material["material_id"]},
            )
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert accepted["status"] == "accepted"
    return accepted, later


async def reminders(api: Api) -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["type"] == "commitment.due_soon"]


async def test_reminder_sent_once_by_the_background_job(api: Api) -> None:
    application, later = await application_with_promise(api)
    deadline = next(m for m in application["materials"] if m["material_id"] == later["material_id"])[
        "commitment_deadline"
    ]
    for _ in range(100):
        if await reminders(api):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # several more rounds of the job
    sent = await reminders(api)
    assert len(sent) == 1
    assert sent[0]["applicant"] == APPLICANT and sent[0]["application_code"] == application["code"]
    assert sent[0]["payload"] == {
        "material_id": later["material_id"],
        "material_name": later["name"],
        "due_date": deadline,
    }


async def test_only_within_the_window_and_not_for_drafts(api: Api, client: Any) -> None:
    application, later = await application_with_promise(api)
    domain = client.app[DOMAIN]
    deadline = domain.calendar.add_working_days(domain.today(), domain.settings.commitment_working_days)
    sessionmaker = client.app[SESSIONMAKER]

    async def run(today: date) -> int:
        async with sessionmaker() as session:
            await begin_write(session)
            return await commitments.send_due_reminders(session, domain=domain, today=today)

    # The first day from which the deadline is at most two working days away.
    first_due = next(
        day
        for day in (domain.today() + timedelta(days=n) for n in range(60))
        if domain.calendar.add_working_days(day, 2) >= deadline
    )
    assert await run(domain.today()) == 0  # ten working days away
    assert await run(first_due - timedelta(days=1)) == 0
    assert await run(first_due) == 1
    assert await run(first_due) == 0
    assert await run(deadline) == 0  # already sent for this deadline
    assert await run(deadline + timedelta(days=1)) == 0  # past due: not "due soon"
    assert len(await reminders(api)) == 1

    # A draft may never be submitted: no reminders for its promises.
    draft = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": application["package_id"]},
    )
    await api.call(
        "POST",
        f"/applications/{draft['code']}/commitments",
        applicant=APPLICANT,
        json={"material_id": later["material_id"], "kind": "later"},
    )
    assert await run(first_due) == 0


async def test_each_material_says_what_may_stand_in_for_it(api: Api, client: Any) -> None:
    # The assistant offers 容缺后补 (with its deadline) and 告知承诺 only where the backend takes them.
    application, _later = await application_with_promise(api)
    domain = client.app[DOMAIN]
    deadline = domain.calendar.add_working_days(domain.today(), domain.settings.commitment_working_days)
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    created = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT + "-draft",
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    for item in created["materials"]:
        assert item["can_supply_later"] is (not item["key"]), item["material_id"]
        assert item["can_pledge"] is item["commitment_covers"], item["material_id"]
        assert item["supply_later_by"] == (None if item["key"] else deadline.isoformat())
    pledged = next(m for m in created["materials"] if m["can_pledge"])
    done = await api.call(
        "POST",
        f"/applications/{created['code']}/commitments",
        applicant=APPLICANT + "-draft",
        json={"material_id": pledged["material_id"], "kind": "pledge"},
    )
    item = next(m for m in done["materials"] if m["material_id"] == pledged["material_id"])
    assert item["status"] == "pledged" and item["status_label"] == "告知承诺"
    refused = next(m for m in created["materials"] if not m["can_pledge"])
    error = await api.call(
        "POST",
        f"/applications/{created['code']}/commitments",
        applicant=APPLICANT + "-draft",
        json={"material_id": refused["material_id"], "kind": "pledge"},
        expect=422,
    )
    assert error["error"]["code"] == "pledge_not_allowed"
    # Once accepted nothing more may be promised.
    assert not any(m["can_supply_later"] or m["can_pledge"] for m in application["materials"])
    assert all(m["supply_later_by"] is None for m in application["materials"])


async def test_promising_the_same_material_again_keeps_its_deadline(
    api: Api, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    owner = APPLICANT + "-again"
    created = await api.call(
        "POST",
        "/applications",
        applicant=owner,
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    code = created["code"]
    later = next(m for m in created["materials"] if not m["key"])
    promise = {"material_id": later["material_id"], "kind": "later"}
    first = await api.call("POST", f"/applications/{code}/commitments", applicant=owner, json=promise)
    deadline = next(m for m in first["materials"] if m["material_id"] == later["material_id"])[
        "commitment_deadline"
    ]
    assert first["message"].startswith(f"已登记容缺后补：“{later['name']}”请在 ")

    # Days later the same promise again (the assistant asks at every submit attempt): nothing moves.
    later_on = client.app[DOMAIN].today() + timedelta(days=5)
    monkeypatch.setattr(Domain, "today", lambda self: later_on)
    again = await api.call("POST", f"/applications/{code}/commitments", applicant=owner, json=promise)
    item = next(m for m in again["materials"] if m["material_id"] == later["material_id"])
    assert item["commitment_deadline"] == deadline and item["supply_later_by"] == deadline
    day = date.fromisoformat(deadline)
    assert again["message"] == (
        f"“{later['name']}”此前已承诺容缺后补，补交期限仍为 {day.month}月{day.day}日"
        f"（周{'一二三四五六日'[day.weekday()]}），不因再次承诺而顺延。"
    )
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    promises = [
        e for e in body["events"] if e["type"] == "material.committed" and e["application_code"] == code
    ]
    assert [e["payload"]["deadline"] for e in promises] == [deadline]  # one promise, one event


async def overdue_notices(api: Api) -> list[dict[str, Any]]:
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    return [e for e in body["events"] if e["type"] == "commitment.overdue"]


async def test_a_missed_deadline_is_noticed_once_and_shown_to_staff(api: Api, client: Any) -> None:
    application, later = await application_with_promise(api)
    code = application["code"]
    deadline = date.fromisoformat(
        next(m for m in application["materials"] if m["material_id"] == later["material_id"])[
            "commitment_deadline"
        ]
    )
    domain = client.app[DOMAIN]

    async def run(today: date) -> int:
        async with client.app[SESSIONMAKER]() as session:
            await begin_write(session)
            return await commitments.send_overdue_notices(session, domain=domain, today=today)

    assert await run(deadline) == 0  # due today: not overdue yet
    assert await run(deadline + timedelta(days=1)) == 1
    assert await run(deadline + timedelta(days=1)) == 0  # once, across runs
    assert await run(deadline + timedelta(days=9)) == 0
    [notice] = await overdue_notices(api)
    assert notice["applicant"] == APPLICANT and notice["application_code"] == code
    assert notice["payload"] == {
        "material_id": later["material_id"],
        "material_name": later["name"],
        "due_date": deadline.isoformat(),
    }

    # Staff see the missed promise on the application and in the review queue.
    token = await api.admin()
    task = application["tasks"][0]
    async with client.app[SESSIONMAKER]() as session:
        await session.execute(
            update(ApplicationMaterial)
            .where(ApplicationMaterial.material_id == later["material_id"])
            .values(commitment_deadline=domain.today() - timedelta(days=1))
        )
        await session.commit()
    seen = await api.call("GET", f"/tasks/{task['id']}/application", token=token)
    item = next(m for m in seen["materials"] if m["material_id"] == later["material_id"])
    assert item["commitment_overdue"] is True
    queue = (await api.call("GET", "/tasks", token=token))["tasks"]
    assert next(t for t in queue if t["id"] == task["id"])["overdue_materials"] == [later["name"]]

    # Delivered after all: no longer overdue, and a new deadline is not noticed again either.
    file_id = (await upload(api, corpus.phone_jpeg(), applicant=APPLICANT))["file_id"]
    await api.call(
        "POST",
        f"/applications/{code}/materials",
        applicant=APPLICANT,
        json={"material_id": later["material_id"], "file_id": file_id},
    )
    assert await run(deadline + timedelta(days=30)) == 0
    queue = (await api.call("GET", "/tasks", token=token))["tasks"]
    assert next(t for t in queue if t["id"] == task["id"])["overdue_materials"] == []
