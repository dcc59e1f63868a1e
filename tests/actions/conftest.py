"""Fixtures for the action tests: a REAL backend in a subprocess, trackers built from JSON, the domain.

These tests run in the Rasa environment (``.venv-rasa/bin/python -m pytest tests/actions``) because the
actions import rasa_sdk; that environment cannot import backend/, so the backend runs as a process of the
app environment (``.venv/bin/python -m backend``) with a throwaway SQLite database and a free port.

Under the app environment (``make test``) only ``test_in_rasa_env.py`` is collected: it runs this
directory in the Rasa environment, so the suite is part of ``make test`` too.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.actions.backend_process import SERVICE_KEY, BackendProcess, free_port

ROOT = Path(__file__).resolve().parents[2]

try:
    import rasa_sdk  # noqa: F401
except ImportError:  # the app environment: only the runner that re-runs this directory in .venv-rasa
    collect_ignore = [
        p.name for p in Path(__file__).parent.glob("test_*.py") if p.name != "test_in_rasa_env.py"
    ]


@pytest.fixture(scope="session")
def backend_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    process = BackendProcess(tmp_path_factory.mktemp("backend"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def api(backend_process: BackendProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendProcess]:
    """The backend, with the actions' client pointed at it (a fresh client per test and event loop)."""
    from actions import backend as client

    monkeypatch.setenv("BACKEND_URL", backend_process.url)
    monkeypatch.setenv("BACKEND_PUBLIC_URL", "https://zwfw.example.gov.cn")
    monkeypatch.setenv("SERVICE_KEY", SERVICE_KEY)
    monkeypatch.setenv("BACKEND_TIMEOUT", "3")
    client.reset_backend()
    yield backend_process
    client.reset_backend()


@pytest.fixture(autouse=True)
async def closing_client() -> Any:
    """Closes the actions' HTTP session at the end of each test (aiohttp sessions belong to one loop)."""
    yield
    from actions.backend import close_clients

    await close_clients()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """config/rasa/domain/*.yml merged as Rasa does, in the shape rasa_sdk receives it."""
    merged: dict[str, Any] = {}
    for path in sorted((ROOT / "config" / "rasa" / "domain").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


_applicant_counter = [0]


@pytest.fixture
def applicant() -> str:
    """A sender id of its own per test, so tests sharing the backend never see each other's data."""
    _applicant_counter[0] += 1
    return f"web:actions-test-{os.getpid()}-{_applicant_counter[0]}"


# --- trackers from JSON -----------------------------------------------------------------------------------

TRACKERS = Path(__file__).parent / "trackers"


def user_event(
    text: str, intent: str, entities: list[dict[str, Any]] | None = None, confidence: float = 0.99
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
    }


def entity_of(text: str, name: str, value: str | tuple[str, str]) -> dict[str, Any]:
    """An entity as NLU reports it; `(words, value)` for a synonym: ("火锅店", "restaurant")."""
    words, mapped = value if isinstance(value, tuple) else (value, value)
    start = text.find(words)
    entity: dict[str, Any] = {"entity": name, "value": mapped}
    if start >= 0:
        entity.update(start=start, end=start + len(words))
    return entity


def tracker_state(
    sender: str,
    text: str = "",
    intent: str = "",
    *,
    entities: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    confidence: float = 0.99,
) -> dict[str, Any]:
    """A tracker as Rasa sends it to the action server (JSON), for the latest message `text`."""
    entity_list = [entity_of(text, name, value) for name, value in (entities or {}).items()]
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entity_list}
    history = list(events or [])
    if text:
        history.append(user_event(text, intent, entity_list, confidence))
    return {
        "sender_id": sender,
        "slots": dict(slots or {}),
        "latest_message": latest,
        "events": history,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
    }


def load_tracker(name: str, sender: str) -> dict[str, Any]:
    """A tracker captured from a real conversation (tests/actions/trackers/*.json), for another sender."""
    state = json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))
    state["sender_id"] = sender
    return dict(state)


class Ran:
    """What one action run said and did."""

    def __init__(self, messages: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.events = events

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]


async def run_action(action: Any, state: dict[str, Any], domain: dict[str, Any]) -> Ran:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, Tracker.from_dict(state), domain)
    return Ran(dispatcher.messages, list(events or []))


@contextlib.contextmanager
def backend_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Points the actions at a port nobody listens on."""
    from actions import backend as client

    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{free_port()}")
    client.reset_backend()
    yield
    client.reset_backend()


def form_state(
    sender: str,
    text: str,
    intent: str,
    *,
    form: str,
    requested: str | None,
    candidates: dict[str, Any],
    slots: dict[str, Any] | None = None,
    entities: dict[str, str] | None = None,
    events: list[dict[str, Any]] | None = None,
    confidence: float = 0.99,
) -> dict[str, Any]:
    """The tracker Rasa sends a form's validation action: the form ran, then the extracted slot values."""
    state = tracker_state(
        sender,
        text,
        intent,
        entities=entities,
        slots={**(slots or {}), **candidates},
        events=events,
        active_loop=form,
        confidence=confidence,
    )
    state["slots"]["requested_slot"] = requested
    state["events"] += [
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": form},
        *({"event": "slot", "name": name, "value": value} for name, value in candidates.items()),
    ]
    state["latest_action_name"] = form
    return state
