"""What every action shares: who is speaking, calling the backend without ever crashing a turn, and
the shapes of messages (buttons) the gateway understands (bot/README.md).

The Rasa sender id is the applicant id the backend expects in ``X-Applicant`` (``wechat:<openid>``,
``web:<id>``, ``miniprogram:<openid>``): the gateway chose it that way, so it is passed on unchanged.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import Backend, BackendRefused, BackendUnavailable, backend

log = logging.getLogger(__name__)

BUSY = (
    "抱歉，系统繁忙，暂时没能查到结果，请稍后再试。"
    "如果着急，可以回复“转人工”，或拨打 12345 政务服务便民热线。"
)

Buttons = list[dict[str, str]]


def button(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}


def applicant_of(tracker: Tracker) -> str:
    return str(tracker.sender_id)


def numbered_menus(tracker: Tracker) -> bool:
    """WeChat has no buttons: the gateway shows them as a numbered text menu ("回复 1 …") and maps the
    number back (bot/wechat/rendering.py). The sender id names the channel."""
    return applicant_of(tracker).startswith("wechat:")


def how_to_choose(tracker: Tracker) -> str:
    """How to pick one of the options just shown, in the terms of the person's channel."""
    return "回复编号或对应的文字" if numbered_menus(tracker) else "点按钮或回复对应的文字"


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity's value in the message being answered (not a slot remembered from earlier)."""
    values = list(tracker.get_latest_entity_values(entity))
    return str(values[-1]) if values else None


def latest_entity_words(tracker: Tracker, entity: str) -> str | None:
    """The words the applicant used for an entity ("火锅店"), not its synonym-mapped value ("restaurant")."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    for item in reversed(message.get("entities") or []):
        if item.get("entity") == entity:
            start, end = item.get("start"), item.get("end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                return text[start:end]
            return str(item.get("value"))
    return None


def said_since_user_spoke(tracker: Tracker, text: str) -> bool:
    """Whether the assistant already sent `text` in this turn (a form asks through several actions)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and event.get("text") == text:
            return True
    return False


def slot_before_user_spoke(tracker: Tracker, name: str) -> Any:
    """A slot's value as it was before the applicant's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


def set_in_last_turn(tracker: Tracker, name: str) -> Any:
    """What the assistant set a slot to in its answer to the message before the latest one, else None:
    what "发错了" refers to is what was just done, not something done earlier in the conversation."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return None
        elif users == 1 and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


# Set when the assistant files a photo as a material: {"application_code", "material_id", "file_id"}, and
# "meant" when the photo was already filed as another material than the one it was sent for.
FILED = "filed_file"


def just_filed(tracker: Tracker) -> dict[str, str] | None:
    """The photo the assistant filed in its last answer, if it did: what "发错了" takes back."""
    filed = set_in_last_turn(tracker, FILED)
    if isinstance(filed, dict) and all(filed.get(k) for k in ("application_code", "material_id", "file_id")):
        keys = ("application_code", "material_id", "file_id", "meant")
        return {k: str(filed[k]) for k in keys if filed.get(k)}
    return None


def message_id(tracker: Tracker) -> str | None:
    """The id Rasa gave the message being answered (none in trackers built by hand)."""
    value = (tracker.latest_message or {}).get("message_id")
    return str(value) if value else None


def last_bot_text(tracker: Tracker) -> str:
    """The assistant's last message before the applicant's latest one."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return ""
            seen_user = True
        elif event.get("event") == "bot" and seen_user and event.get("text"):
            return str(event["text"])
    return ""


def is_command(text: str) -> bool:
    """Menu clicks and buttons arrive as `/intent{...}`; they carry no words worth searching for."""
    return text.startswith("/")


def latest_confidence(tracker: Tracker) -> float:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return float(intent.get("confidence") or 0.0)


# --- forms: an answer or an interruption? ------------------------------------------------------------------
#
# While a form asks, every reply is offered to it (the slot mappings take any text), because NLU has never
# seen most answers: "3个人" reads like 人工 (request_human), "5" like goodbye, "不用代办" like a policy
# question. The form's validation action decides: a reply that answers the question is an answer, whatever
# its intent; otherwise an interrupting intent rejects the form, so the rule for that intent answers and the
# form asks again (nlu_data/rules/ has one per intent below, for each form that uses this).

INTERRUPTIONS = frozenset(
    {
        "cancel", "request_human", "complain", "correct", "ask_policy", "ask_time_limit", "ask_progress",
        "upload_material", "greet", "thanks", "goodbye", "ask_capabilities", "ask_licences_for_industry",
        # a notice's button (rate a licence or a conversation with staff; reapply after a refusal) may come
        # mid-form
        "rate", "reapply",
        # "继续刚才的": the form asks its question again
        "resume",
    }
)  # fmt: skip
# Intents that interrupt even when the words could pass for an answer ("算了" is not a shop name, "我要继续"
# is not a yes), when NLU is sure of them.
DECISIVE = frozenset({"cancel", "request_human", "complain", "correct", "resume"})
DECISIVE_CONFIDENCE = 0.9
_QUESTION_WORDS = (
    "？",
    "?",
    "吗",
    "呢",
    "什么",
    "怎么",
    "多久",
    "哪",
    "几天",
    "能不能",
    "可不可以",
    "为啥",
    "为什么",
)


# A spoken question often ends in a bare 不 or 没 after a modal verb (以后能加进来不, 开饭店要办证不); an
# answer such as 还没有 or 营业执照还没有 has none before it.
_ASKING_ENDINGS = ("没有", "不", "没")  # longest first: 没有 is one ending
_MODALS = ("能", "可以", "会", "要", "用", "行", "是", "算", "给")
_TRAILING = " \t。.！!～~…"


def looks_like_question(text: str) -> bool:
    if any(word in text for word in _QUESTION_WORDS):
        return True
    bare = text.rstrip(_TRAILING)
    ending = next((e for e in _ASKING_ENDINGS if bare.endswith(e)), None)
    return ending is not None and any(modal in bare[: -len(ending)] for modal in _MODALS)


def interrupts(tracker: Tracker, *, answers: bool, free_text: bool = False) -> bool:
    """Whether the latest message interrupts the form rather than answering it (`answers`: it would
    pass as an answer to the question asked; `free_text`: any words would, as for a shop name, so only
    a confident intent can tell "谢谢" from a name)."""
    intent = latest_intent(tracker)
    text = latest_text(tracker)
    if intent not in INTERRUPTIONS:
        return False
    if intent == "correct" and just_filed(tracker) is not None:
        # "发错了" right after a photo was filed is about the photo, never an answer (a shop name, say).
        return True
    if latest_confidence(tracker) >= DECISIVE_CONFIDENCE and (intent in DECISIVE or free_text):
        return True
    if is_command(text):  # a button of another intent, a photo
        return True
    return not answers or looks_like_question(text)


def reject_form(form: str, slot: str) -> list[dict[str, Any]]:
    """Undo the slot the mapping filled with the interruption, and let the intent's rule answer it."""
    return [SlotSet(slot, None), ActionExecutionRejected(form)]


class BackendAction(Action, abc.ABC):
    """An action whose work needs the backend; an outage becomes a polite "系统繁忙" instead of an error.

    Subclasses implement ``act``; ``run`` adds the failure handling. ``BackendRefused`` that an action does
    not handle itself is relayed with the backend's own Chinese message.
    """

    @abc.abstractmethod
    def name(self) -> str: ...

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]: ...

    @property
    def backend(self) -> Backend:
        return backend()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except BackendUnavailable:
            log.warning("%s: backend unavailable for %s", self.name(), tracker.sender_id)
            if not said_since_user_spoke(tracker, BUSY):
                dispatcher.utter_message(text=BUSY)
            return []
        except BackendRefused as refused:
            log.info("%s: backend refused for %s: %s", self.name(), tracker.sender_id, refused)
            dispatcher.utter_message(text=refused.message)
            return []
