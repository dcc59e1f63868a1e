"""继续刚才的 / 接着办 / 刚才说到哪了: back to what was left half done.

Inside a form the form simply asks its question again (the in-form rules run ``action_resume``, then the
form). Outside, ``action_resume`` looks for the form this session left before it finished (stopped with
"算了", handed to a person, …) and starts it again (``FollowupAction``), where the form carries on from the
slots it kept; with none, it says what is in progress at the backend: a questionnaire answered in part, an
application still missing materials. Nothing in progress: it says so and offers what to start.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.applications import find_application, guide_uploads, unsatisfied
from actions.dialogue import BackendAction, applicant_of, button
from actions.questionnaire import stored_answers

CHECKLIST_FORM = "checklist_form"
APPLICATION_FORM = "application_form"
CHANGE_FORM = "change_form"
# Each form, and the action that runs when it is done: once that ran, nothing of it is left to resume.
FINISHED_BY = {
    CHECKLIST_FORM: "action_show_checklist",
    APPLICATION_FORM: "action_start_application",
    CHANGE_FORM: "action_start_change",
}
RESUMED = {
    APPLICATION_FORM: "好的，我们接着填申请信息。",
    CHANGE_FORM: "好的，我们接着办变更。",
}


def left_form(tracker: Tracker) -> str | None:
    """The form this session ran last, unless it finished (its closing action ran after it)."""
    finished: set[str] = set()
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") in FINISHED_BY.values():
            finished.add(str(event["name"]))
        elif event.get("event") == "active_loop" and event.get("name") in FINISHED_BY:
            form = str(event["name"])
            return None if FINISHED_BY[form] in finished else form
    return None


class ActionResume(BackendAction):
    def name(self) -> str:
        return "action_resume"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.active_loop.get("name"):
            # The form asks its question again right after this.
            dispatcher.utter_message(text="好的，我们接着来。")
            return []
        form = left_form(tracker)
        package_id = tracker.get_slot("industry")
        questions_left = await self._questions_left(package_id, tracker)
        if form == CHECKLIST_FORM and package_id and not questions_left:
            form = None
        elif form is None and questions_left and stored_answers(tracker, package_id):
            form = CHECKLIST_FORM  # answered in part, in an earlier session
        if form is not None:
            # The questionnaire says itself where it resumes (已回答 N 题).
            if form in RESUMED:
                dispatcher.utter_message(text=RESUMED[form])
            return [FollowupAction(form)]
        application = await find_application(tracker, editable=True)
        if application is not None:
            dispatcher.utter_message(
                text=f"好的，我们接着办申请 {application['code']}"
                f"（{application['package_name']}·{application['operation_label']}）。"
            )
            if unsatisfied(application):
                await guide_uploads(dispatcher, self.backend, applicant_of(tracker), application)
            else:
                dispatcher.utter_message(
                    text="材料已经齐全，确认无误后就可以提交了。",
                    buttons=[button("提交申请", "/submit_application"), button("办理进度", "/ask_progress")],
                )
            return []
        dispatcher.utter_message(
            text="目前没有办到一半的事项。您可以先列一份材料清单，或者直接开始申请：",
            buttons=[
                button("列材料清单", "/start_checklist"),
                button("我要申请", "/start_application"),
                button("办理进度", "/ask_progress"),
            ],
        )
        return []

    async def _questions_left(self, package_id: str | None, tracker: Tracker) -> bool:
        if not package_id or package_id not in {p["id"] for p in await self.backend.packages()}:
            return False
        checklist = await self.backend.checklist(package_id, stored_answers(tracker, package_id))
        return bool(checklist["unanswered"])
