"""好差评: a 1–5 score and an optional comment, for an issued licence's application or a finished handoff.

The backend takes one rating per application and per handoff and has no way to add a comment later, so
the comment is asked *before* posting, and only when the score is low (a low score without a reason
helps nobody; a high one needs no essay).

What is rated: the rating buttons under a notice name it (``/rate{"score": "5", "handoff_id": "12"}`` when a
conversation with staff ended, ``/rate{"score": "5", "application_code": "ZL-…"}`` when a licence was
issued), and then exactly that is rated. Such a button arrives out of the blue, whatever the assistant
last said. Without one, the handoff or application the conversation last offered a rating for is a guess,
and a general rating the fallback.

The score buttons are built here, not as domain responses: their names come from config/ratings.yaml,
which the gateway's notices and the staff console read too, and Rasa would try to fill the JSON of each
payload (``{"score": "5"}``) as a slot template, logging an error for every button.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend import BackendRefused
from actions.dialogue import (
    BackendAction,
    applicant_of,
    button,
    is_command,
    latest_entity,
    latest_intent,
    latest_text,
    numbered_menus,
)
from actions.parsing import application_code, parse_score

NO_COMMENT = "无"
COMMENT_BELOW = 4  # scores below this ask for a reason
TARGET = "rating_target"
RATING_SLOTS = ("score", "rating_comment", TARGET)
ALREADY_RATED = "这次服务您已经评价过了，感谢您的支持！"
NOT_FOUND = (
    "抱歉，没有找到您要评价的这次服务记录，评价没有提交。"
    "如有意见，可以回复“转人工”或拨打 12345 政务服务便民热线。"
)
ASK_SCORE = "请为本次服务打个分吧（1-5分，5分最满意）："
RATINGS_FILE = Path(__file__).resolve().parent.parent / "config" / "ratings.yaml"


@functools.cache
def score_names() -> tuple[tuple[int, str], ...]:
    """(1, "非常不满意") … (5, "非常满意"): the names everyone shows (config/ratings.yaml)."""
    scores = yaml.safe_load(RATINGS_FILE.read_text(encoding="utf-8"))["scores"]
    return tuple((score, str(scores[score])) for score in range(1, 6))


def score_buttons() -> list[dict[str, str]]:
    """Ascending like the notices' buttons; on WeChat each is numbered by its score (bot/wechat)."""
    return [
        button(f"{score}分 {name}", "/rate" + json.dumps({"score": str(score)}, ensure_ascii=False))
        for score, name in score_names()
    ]


def ask_for_score(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=ASK_SCORE, buttons=score_buttons())


class ActionAskScore(Action):
    """rating_form's question for the score (Rasa prefers ``action_ask_<slot>`` to ``utter_ask_<slot>``)."""

    def name(self) -> str:
        return "action_ask_score"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ask_for_score(dispatcher)
        return []


def named_target(tracker: Tracker) -> dict[str, Any] | None:
    """What the latest message says it rates, in the backend's terms: {"handoff_id": 12} and/or
    {"application_code": "ZL-…"}; None when it names nothing."""
    target: dict[str, Any] = {}
    handoff = latest_entity(tracker, "handoff_id")
    try:
        if handoff is not None and int(handoff) >= 1:
            target["handoff_id"] = int(handoff)
    except ValueError:
        pass  # not an id our notices would send; rate what the conversation suggests instead
    code = latest_entity(tracker, "application_code")
    if code:
        target["application_code"] = application_code(code) or code
    return target or None


def reason_given(tracker: Tracker, score: int | None) -> str | None:
    """The reason that came with a low score ("只能给2分，太慢了"), if the latest message has one."""
    text = latest_text(tracker)
    if score is not None and score < COMMENT_BELOW and not is_command(text) and len(text) > 4:
        return text[:1000]
    return None


class ValidateRatingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_rating_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        score = parse_score(tracker.get_slot("score"))
        if score is not None and score >= COMMENT_BELOW:
            return ["score"]
        return ["score", "rating_comment"]

    def validate_score(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        starting = tracker.get_slot("requested_slot") is None
        if starting and latest_entity(tracker, "score") is None and parse_score(latest_text(tracker)) is None:
            # Left from a rating abandoned halfway ("算了", 转人工); this one ("我要评价") has no score yet.
            return dict.fromkeys(RATING_SLOTS)
        score = parse_score(value)
        if score is None:
            score = parse_score(latest_text(tracker))
        if score is None:
            # On WeChat the score buttons are numbered by their score: typing the score is choosing it.
            tap = "" if numbered_menus(tracker) else "，或点下面的按钮"
            dispatcher.utter_message(text=f"请回复 1～5 的分数（5 分最满意）{tap}。")
            return {"score": None}
        result: dict[str, Any] = {"score": str(score)}
        # The message that starts the rating (or answers "打几分") decides what is rated, so a typed score
        # drops what an abandoned button named; a score inside the comment leaves the target alone.
        if starting or tracker.get_slot("requested_slot") == "score":
            result[TARGET] = named_target(tracker)
            result["rating_comment"] = reason_given(tracker, score)
        elif reason := reason_given(tracker, score):
            result["rating_comment"] = reason
        return result

    def validate_rating_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") is None:
            # Not asked yet, so not an answer: left from an abandoned rating, unless this message gave it.
            return {"rating_comment": reason_given(tracker, parse_score(tracker.get_slot("score")))}
        text = str(value or "").strip()
        if not text or is_command(text) or text in ("没有", "没了", "不用了", "无", "no"):
            return {"rating_comment": NO_COMMENT}
        return {"rating_comment": text[:1000]}


class ActionRate(BackendAction):
    """Posts the rating: for exactly what the rating message named, else linked to the handoff or
    application the conversation offered a rating for, else in general."""

    def name(self) -> str:
        return "action_rate"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(name, None) for name in RATING_SLOTS]
        score = parse_score(tracker.get_slot("score"))
        if score is None:
            ask_for_score(dispatcher)
            return reset
        comment = tracker.get_slot("rating_comment")
        body: dict[str, Any] = {"score": score}
        if comment and comment != NO_COMMENT:
            body["comment"] = comment
        applicant = applicant_of(tracker)
        named = self._named(tracker)
        if named:
            try:
                await self.backend.rate(applicant, {**body, **named})
            except BackendRefused as refused:
                if refused.code == "already_rated":
                    dispatcher.utter_message(text=ALREADY_RATED)
                elif refused.status == 404:
                    # Rating something else instead would put the score on the wrong service.
                    dispatcher.utter_message(text=NOT_FOUND)
                else:
                    raise
                return [*reset, *self._forget_offers(tracker, named)]
            self._thank(dispatcher, score)
            return [*reset, *self._forget_offers(tracker, named)]

        targets: list[tuple[str, dict[str, Any]]] = []
        if tracker.get_slot("handoff_id"):
            targets.append(("handoff_id", {"handoff_id": int(tracker.get_slot("handoff_id"))}))
        if tracker.get_slot("rating_application"):
            targets.append(
                ("rating_application", {"application_code": tracker.get_slot("rating_application")})
            )
        targets.append(("", {}))
        for slot, target in targets:
            try:
                await self.backend.rate(applicant, {**body, **target})
            except BackendRefused as refused:
                if refused.code == "already_rated":
                    dispatcher.utter_message(text=ALREADY_RATED)
                    return [*reset, *([SlotSet(slot, None)] if slot else [])]
                if refused.status == 404 and target:
                    continue  # the handoff / application is not this applicant's any more: rate in general
                raise
            self._thank(dispatcher, score)
            return [*reset, *([SlotSet(slot, None)] if slot else [])]
        return reset

    @staticmethod
    def _named(tracker: Tracker) -> dict[str, Any] | None:
        # A rating button taken straight to this action (in the middle of another form) names its target
        # itself; after rating_form asked for a comment, validate_rating_form kept the button's target.
        if latest_intent(tracker) == "rate" and (target := named_target(tracker)):
            return target
        return tracker.get_slot(TARGET) or None

    @staticmethod
    def _thank(dispatcher: CollectingDispatcher, score: int) -> None:
        if score >= COMMENT_BELOW:
            dispatcher.utter_message(text=f"收到您的 {score} 分评价，感谢您的认可！祝您生意兴隆。")
        else:
            dispatcher.utter_message(
                text=f"收到您的 {score} 分评价，很抱歉没能让您满意。"
                "您的意见已转给政务服务中心，我们会认真改进。"
                "如需进一步反映，可以拨打 12345 政务服务便民热线。"
            )

    @staticmethod
    def _forget_offers(tracker: Tracker, rated: dict[str, Any]) -> list[dict[str, Any]]:
        """The remembered offers that were about what was just rated (rated once is rated)."""
        events = []
        if "handoff_id" in rated and str(tracker.get_slot("handoff_id")) == str(rated["handoff_id"]):
            events.append(SlotSet("handoff_id", None))
        code = tracker.get_slot("rating_application")
        if code and application_code(code) == rated.get("application_code"):
            events.append(SlotSet("rating_application", None))
        return events
