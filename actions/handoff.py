"""Human service (帮办代办): the applicant asks for a person (转人工), complains (投诉), or the assistant
fails to understand twice in a row. The backend opens the handoff and words the reply (it knows office
hours and the hotline); the custom payload ``{"handoff": {"id": ...}}`` tells the gateway to switch this
person to human mode (bot/README.md).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendRefused, BackendUnavailable, backend
from actions.dialogue import (
    BackendAction,
    applicant_of,
    button,
    is_command,
    last_bot_text,
    latest_intent,
    latest_text,
)
from actions.policy import answer_if_found, is_policy_answer, is_question, search_and_answer

log = logging.getLogger(__name__)

UNAVAILABLE = "抱歉，暂时没能为您转接人工服务，请稍后再试；着急的话可以直接拨打 12345 政务服务便民热线。"
FALLBACK = "nlu_fallback"
# The same words again this soon are one message delivered twice (a double tap, a channel's retry) that got
# past the gateway: the copy comes right after the first turn, whose actions may take a few seconds.
DUPLICATE_SECONDS = 10.0
COMPLAINT_OFFER = "如果您现在就想反映具体情况，我可以为您转接工作人员："
# Words that make a complaint a demand to be heard now, whatever else it asks (为什么还没办好，我要投诉).
COMPLAINING_NOW = ("要投诉", "我得投诉", "我想投诉", "我投诉", "投诉你们")


def user_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """The applicant's messages, latest first, without those taken back (`UserUtteranceReverted`)."""
    messages: list[dict[str, Any]] = []
    reverted = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            break
        if kind == "rewind":
            reverted += 1
        elif kind == "user":
            if reverted:
                reverted -= 1
            else:
                messages.append(event)
    return messages


def recent_user_texts(tracker: Tracker, limit: int = 3) -> list[str]:
    """What the applicant said last (oldest first), so staff see why they were called without asking."""
    texts: list[str] = []
    for event in user_messages(tracker):
        text = str(event.get("text") or "").strip()
        if text and not is_command(text):
            texts.append(text)
        if len(texts) == limit:
            break
    return texts[::-1]


def previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the applicant's message before the latest one."""
    messages = user_messages(tracker)
    if len(messages) < 2:
        return None
    return ((messages[1].get("parse_data") or {}).get("intent") or {}).get("name")


def is_repeat_delivery(tracker: Tracker) -> bool:
    """Whether the latest message is a copy of the one before: the same words within seconds."""
    messages = user_messages(tracker)
    if len(messages) < 2:
        return False
    latest, before = messages[0], messages[1]
    text = str(latest.get("text") or "").strip()
    try:
        gap = float(latest["timestamp"]) - float(before["timestamp"])
    except (KeyError, TypeError, ValueError):
        return False
    return bool(text) and text == str(before.get("text") or "").strip() and 0 <= gap <= DUPLICATE_SECONDS


class ActionHandoff(BackendAction):
    def name(self) -> str:
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        reason = {"complain": "complaint", FALLBACK: "fallback"}.get(intent or "", "asked")
        return await hand_off(dispatcher, tracker, reason)


class ActionComplain(BackendAction):
    """A complaint goes to a person at once. A question about complaining (窗口态度差 去哪投诉,
    打12345投诉有用吗) is answered from the documents instead, with a person one tap away: it asks where
    to go, and a handoff would leave it unanswered until staff are free. Someone who says they are
    complaining (我要投诉) is handed off even when they ask something too."""

    def name(self) -> str:
        return "action_complain"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if asks_about_complaining(text) and await search_and_answer(dispatcher, text, self.backend):
            dispatcher.utter_message(text=COMPLAINT_OFFER, buttons=[button("转人工", "/request_human")])
            return []
        dispatcher.utter_message(response="utter_complain_ack")
        return await hand_off(dispatcher, tracker, "complaint")


def asks_about_complaining(text: str) -> bool:
    """A question (去哪投诉), not someone complaining now (scripts/policy_routes.py asks this too)."""
    return is_question(text) and not any(words in text for words in COMPLAINING_NOW)


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[dict[str, Any]]:
    note = " / ".join(recent_user_texts(tracker)) or None
    try:
        handoff = await backend().request_handoff(applicant_of(tracker), reason, note)
    except (BackendUnavailable, BackendRefused) as exc:
        log.warning("handoff for %s failed: %r", tracker.sender_id, exc)
        dispatcher.utter_message(text=UNAVAILABLE)
        return []
    dispatcher.utter_message(text=handoff["message"])
    dispatcher.utter_message(json_message={"handoff": {"id": handoff["id"]}})
    return [SlotSet("handoff_id", str(handoff["id"]))]


class ActionFallback(BackendAction):
    """NLU was unsure: answer from the documents when the policy search finds an answer; else ask to
    rephrase once, and unsure again right after a request to rephrase → a person takes over."""

    def name(self) -> str:
        return "action_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if is_repeat_delivery(tracker):
            # Already answered as the first copy: say nothing, and take the copy back so it never counts
            # as a second misunderstanding (which would hand the person to staff).
            return [UserUtteranceReverted()]
        if await answer_if_found(dispatcher, tracker, self.backend):
            # NLU was unsure, but the documents answer it (啥叫证照联办，能简单说说吗).
            return []
        if previous_user_intent(tracker) != FALLBACK or is_policy_answer(last_bot_text(tracker)):
            dispatcher.utter_message(response="utter_please_rephrase")
            return []
        dispatcher.utter_message(text="抱歉，我还是没能理解您的意思。我请工作人员来帮您。")
        return await hand_off(dispatcher, tracker, "fallback")
