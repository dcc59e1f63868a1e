"""好差评: the score, a reason for low scores, linked to the handoff or application it is about."""

from actions.ratings import ActionRate, ValidateRatingForm
from tests.actions.conftest import form_state, run_action, tracker_state

FORM = "rating_form"


async def test_a_high_score_needs_no_comment(api, applicant, domain):
    state = form_state(
        applicant, '/rate{"score": "5"}', "rate", form=FORM, requested=None, candidates={"score": "5"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "5", "requested_slot": None}


async def test_a_low_score_asks_for_the_reason_unless_it_came_with_it(api, applicant, domain):
    state = form_state(
        applicant, '/rate{"score": "2"}', "rate", form=FORM, requested=None, candidates={"score": "2"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "2"}  # rating_comment stays empty, so the form asks for it
    said = "只能给2分，太慢了"
    state = form_state(applicant, said, "rate", form=FORM, requested=None, candidates={"score": "2分"})
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "2", "rating_comment": said}


async def test_a_typed_score_is_read(api, applicant, domain):
    state = form_state(
        applicant, "还行吧", "inform", form=FORM, requested="score", candidates={"score": "还行吧"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots["score"] == "3"
    state = form_state(
        applicant, "随便", "inform", form=FORM, requested="score", candidates={"score": "随便"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots["score"] is None and "1～5" in ran.text


async def test_the_rating_of_a_handoff(api, applicant, domain):
    handoff = api.call("POST", "/handoffs", {"reason": "asked"}, applicant=applicant)
    api.call("POST", f"/handoffs/{handoff['id']}/close", token=api.staff_token())
    slots = {"score": "1", "rating_comment": "等了很久没人回", "handoff_id": str(handoff["id"])}
    ran = await run_action(ActionRate(), tracker_state(applicant, slots=slots), domain)
    assert "收到您的 1 分评价，很抱歉没能让您满意" in ran.text
    assert ran.slots == {"score": None, "rating_comment": None, "handoff_id": None}
    again = await run_action(ActionRate(), tracker_state(applicant, slots=slots), domain)
    assert "已经评价过了" in again.text


async def test_the_rating_of_a_completed_application(api, applicant, domain):
    done = api.issue_licence(applicant)
    slots = {"score": "5", "rating_comment": "无", "rating_application": done["code"]}
    ran = await run_action(ActionRate(), tracker_state(applicant, slots=slots), domain)
    assert "感谢您的认可" in ran.text and ran.slots["rating_application"] is None


async def test_a_rating_about_nothing_in_particular(api, applicant, domain):
    ran = await run_action(ActionRate(), tracker_state(applicant, slots={"score": "4"}), domain)
    assert "收到您的 4 分评价" in ran.text
