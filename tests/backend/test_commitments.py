"""容缺 reminders: the backend's periodic job sends `commitment.due_soon` once per promised material."""

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from backend import commitments
from backend.db import begin_write
from backend.keys import DOMAIN, SESSIONMAKER
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
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
