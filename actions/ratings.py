"""好差评: a 1–5 score and an optional comment, for an issued licence's application or a finished handoff.

The backend takes one rating per application and per handoff and has no way to add a comment later, so
the comment is asked *before* posting, and only when the score is low (a low score without a reason
helps nobody; a high one needs no essay).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend import BackendRefused
from actions.dialogue import BackendAction, applicant_of, is_command, latest_text
from actions.parsing import parse_score

NO_COMMENT = "无"
COMMENT_BELOW = 4  # scores below this ask for a reason


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
        score = parse_score(value)
        if score is None:
            score = parse_score(latest_text(tracker))
        if score is None:
            dispatcher.utter_message(text="请回复 1～5 的分数（5 分最满意），或点下面的按钮。")
            return {"score": None}
        result: dict[str, Any] = {"score": str(score)}
        text = latest_text(tracker)
        # "只能给2分，太慢了": the reason came with the score.
        if score < COMMENT_BELOW and not is_command(text) and len(text) > 4:
            result["rating_comment"] = text
        return result

    def validate_rating_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or is_command(text) or text in ("没有", "没了", "不用了", "无", "no"):
            return {"rating_comment": NO_COMMENT}
        return {"rating_comment": text[:1000]}


class ActionRate(BackendAction):
    """Posts the rating, linked to the handoff or application it is about when there is one."""

    def name(self) -> str:
        return "action_rate"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet("score", None), SlotSet("rating_comment", None)]
        score = parse_score(tracker.get_slot("score"))
        if score is None:
            dispatcher.utter_message(response="utter_ask_rating")
            return reset
        comment = tracker.get_slot("rating_comment")
        body: dict[str, Any] = {"score": score}
        if comment and comment != NO_COMMENT:
            body["comment"] = comment
        targets: list[tuple[str, dict[str, Any]]] = []
        if tracker.get_slot("handoff_id"):
            targets.append(("handoff_id", {"handoff_id": int(tracker.get_slot("handoff_id"))}))
        if tracker.get_slot("rating_application"):
            targets.append(
                ("rating_application", {"application_code": tracker.get_slot("rating_application")})
            )
        targets.append(("", {}))
        applicant = applicant_of(tracker)
        for slot, target in targets:
            try:
                await self.backend.rate(applicant, {**body, **target})
            except BackendRefused as refused:
                if refused.code == "already_rated":
                    dispatcher.utter_message(text="这次服务您已经评价过了，感谢您的支持！")
                    return [*reset, *([SlotSet(slot, None)] if slot else [])]
                if refused.status == 404 and target:
                    continue  # the handoff / application is not this applicant's any more: rate in general
                raise
            if score >= COMMENT_BELOW:
                dispatcher.utter_message(text=f"收到您的 {score} 分评价，感谢您的认可！祝您生意兴隆。")
            else:
                dispatcher.utter_message(
                    text=f"收到您的 {score} 分评价，很抱歉没能让您满意。"
                    "您的意见已转给政务服务中心，我们会认真改进。"
                    "如需进一步反映，可以拨打 12345 政务服务便民热线。"
                )
            return [*reset, *([SlotSet(slot, None)] if slot else [])]
        return reset
