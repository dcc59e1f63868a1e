"""When the backend is down or slow, every action answers "系统繁忙" in time instead of failing the turn."""

import asyncio
import time

import pytest

from actions import backend as client
from actions.applications import ActionAttachMaterial, ActionShowProgress, ActionStartApplication
from actions.catalog import ActionListLicences
from actions.checklist import ActionAskChecklistAnswer, ValidateChecklistForm
from actions.dialogue import BUSY
from actions.handoff import UNAVAILABLE, ActionHandoff
from actions.licences import ActionShowLicence
from actions.policy import ActionPolicySearch
from tests.actions.conftest import backend_down, form_state, run_action, tracker_state

ACTIONS = [
    (ActionListLicences(), "开火锅店要办哪些证", "ask_licences_for_industry", {"industry": "restaurant"}),
    (ActionPolicySearch(), "什么是容缺受理", "ask_policy", {}),
    (ActionShowProgress(), "办到哪一步了", "ask_progress", {}),
    (ActionShowLicence(), "亮证", "show_licence", {}),
    (ActionAttachMaterial(), "/upload_material", "upload_material", {"file_id": "f-1"}),
    (ActionStartApplication(), "", "", {}),
]


@pytest.mark.parametrize(
    ("action", "text", "intent", "entities"), ACTIONS, ids=lambda a: getattr(a, "name", lambda: "")()
)
async def test_backend_down_gives_a_polite_busy_answer(
    monkeypatch, applicant, domain, action, text, intent, entities
):
    slots = {"industry": "restaurant"}
    with backend_down(monkeypatch):
        ran = await run_action(
            action, tracker_state(applicant, text, intent, entities=entities, slots=slots), domain
        )
    assert ran.texts == [BUSY]
    assert ran.events == []


async def test_handoff_failure_gives_the_hotline(monkeypatch, applicant, domain):
    with backend_down(monkeypatch):
        ran = await run_action(ActionHandoff(), tracker_state(applicant, "转人工", "request_human"), domain)
    assert ran.texts == [UNAVAILABLE] and "12345" in ran.text


async def test_the_questionnaire_keeps_its_place_when_the_backend_is_down(monkeypatch, applicant, domain):
    slots = {"industry": "restaurant", "checklist_answers": {"package_id": "restaurant", "answers": {}}}
    state = form_state(
        applicant,
        "个体户",
        "inform",
        form="checklist_form",
        requested="checklist_answer",
        candidates={"checklist_answer": "个体户"},
        slots=slots,
    )
    with backend_down(monkeypatch):
        ran = await run_action(ValidateChecklistForm(), state, domain)
        assert ran.texts == [BUSY] and ran.slots == {"checklist_answer": None}
        # The form's question comes right after in the same turn: "系统繁忙" is not said twice.
        state["events"].append({"event": "bot", "text": BUSY})
        asked = await run_action(ActionAskChecklistAnswer(), state, domain)
        assert asked.messages == []


async def test_a_slow_backend_is_given_up_on_within_the_timeout(monkeypatch, applicant, domain):
    done = asyncio.Event()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()

    server = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("BACKEND_TIMEOUT", "0.5")
    client.reset_backend()
    try:
        started = time.monotonic()
        ran = await run_action(
            ActionPolicySearch(), tracker_state(applicant, "什么是容缺受理", "ask_policy"), domain
        )
        elapsed = time.monotonic() - started
    finally:
        done.set()
        server.close()
        await server.wait_closed()
        client.reset_backend()
    assert ran.texts == [BUSY]
    assert elapsed < 1.5


def test_the_default_timeout_is_three_seconds(monkeypatch):
    monkeypatch.delenv("BACKEND_TIMEOUT", raising=False)
    assert client.BackendSettings.from_env().timeout == 3.0
