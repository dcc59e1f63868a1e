"""继续刚才的 / 接着办 / 刚才说到哪了: back to what was left half done, never read as "stop"."""

from actions.checklist import ValidateChecklistForm
from actions.resume import ActionResume
from tests.actions.conftest import form_state, run_action, tracker_state
from tests.actions.test_checklist import ASKING_GAS, answers


def left(form: str, *slots: tuple[str, object], closed_by: str | None = None) -> list[dict]:
    """A session in which `form` ran, set `slots`, and was stopped (or closed by the action `closed_by`)."""
    events: list[dict] = [{"event": "action", "name": form}, {"event": "active_loop", "name": form}]
    events += [{"event": "slot", "name": name, "value": value} for name, value in slots]
    events += [{"event": "active_loop", "name": None}]
    if closed_by:
        events.append({"event": "action", "name": closed_by})
    return events


def resume(sender: str, text: str = "继续刚才的", **state) -> dict:
    return tracker_state(sender, text, "resume", **state)


def followups(ran) -> list[str]:
    return [e["name"] for e in ran.events if e.get("event") == "followup"]


async def test_a_stopped_questionnaire_goes_on_where_it_stopped(api, applicant, domain):
    kept = answers("restaurant", entity_type="individual", premises="leased")
    state = resume(
        applicant,
        slots={"industry": "restaurant", "checklist_answers": kept},
        events=left("checklist_form", ("checklist_answers", kept)),
    )
    ran = await run_action(ActionResume(), state, domain)
    # The questionnaire itself says where it resumes (已回答 2 题) and asks the next question.
    assert followups(ran) == ["checklist_form"] and ran.messages == []


async def test_a_stopped_application_form_goes_on(api, applicant, domain):
    state = resume(
        applicant,
        "接着办",
        slots={"industry": "restaurant", "operator_name": "老王火锅"},
        events=left("application_form", ("operator_name", "老王火锅")),
    )
    ran = await run_action(ActionResume(), state, domain)
    assert followups(ran) == ["application_form"]
    assert ran.text == "好的，我们接着填申请信息。"


async def test_inside_a_form_the_question_is_asked_again(api, applicant, domain):
    state = resume(applicant, "继续填", slots=ASKING_GAS, active_loop="checklist_form")
    ran = await run_action(ActionResume(), state, domain)
    assert ran.text == "好的，我们接着来。" and ran.events == []
    # The form's validation lets the rule answer it ("继续" is never an answer, nor a "stop").
    reply = "我要继续"
    validated = form_state(
        applicant,
        reply,
        "resume",
        form="checklist_form",
        requested="checklist_answer",
        candidates={"checklist_answer": reply},
        slots=ASKING_GAS,
    )
    ran = await run_action(ValidateChecklistForm(), validated, domain)
    assert ran.events[-1]["event"] == "action_execution_rejected"
    assert "uses_gas" not in str(ran.slots.get("checklist_answers"))


async def test_without_a_form_left_the_application_in_progress_is_told(api, applicant, domain):
    created = api.application(applicant)
    finished = left(
        "checklist_form",
        ("checklist_answers", answers("bookstore")),
        closed_by="action_show_checklist",
    )
    ran = await run_action(ActionResume(), resume(applicant, "刚才说到哪了", events=finished), domain)
    assert followups(ran) == []
    assert ran.texts[0] == f"好的，我们接着办申请 {created['code']}（书店·开办）。"
    assert "接下来请逐份拍照上传材料" in ran.text and "请上传【证照联办综合申请表】" in ran.text


async def test_nothing_in_progress_says_so(api, applicant, domain):
    ran = await run_action(ActionResume(), resume(applicant), domain)
    assert "目前没有办到一半的事项" in ran.text
    assert [b["payload"] for b in ran.buttons] == ["/start_checklist", "/start_application", "/ask_progress"]
