"""Handoff to a person: asked, complaints, and the second misunderstanding in a row."""

import pytest

from actions.handoff import COMPLAINT_OFFER, ActionComplain, ActionFallback, ActionHandoff
from tests.actions.conftest import run_action, tracker_state, user_event


async def test_asking_for_a_person_opens_a_handoff_and_tells_the_gateway(api, applicant, domain):
    ran = await run_action(ActionHandoff(), tracker_state(applicant, "转人工", "request_human"), domain)
    handoff_id = ran.slots["handoff_id"]
    assert ran.messages[0]["text"].startswith(("已为您转接人工服务", "现在是非工作时间"))
    assert ran.messages[1]["custom"] == {"handoff": {"id": int(handoff_id)}}
    current = api.call("GET", "/handoffs/current", applicant=applicant)
    assert current["id"] == int(handoff_id) and current["reason"] == "asked"


async def test_a_complaint_is_handed_off_as_a_complaint_with_what_was_said(api, applicant, domain):
    earlier = [user_event("办了一个月都没办好", "complain")]
    state = tracker_state(applicant, "我要投诉", "complain", events=earlier)
    ran = await run_action(ActionHandoff(), state, domain)
    detail = api.call("GET", f"/handoffs/{ran.slots['handoff_id']}", token=api.staff_token())
    assert detail["reason"] == "complaint"
    assert detail["note"] == "办了一个月都没办好 / 我要投诉"


async def test_first_misunderstanding_asks_to_rephrase_second_hands_off(api, applicant, domain):
    ran = await run_action(ActionFallback(), tracker_state(applicant, "嗯那个啥", "nlu_fallback"), domain)
    assert ran.responses() == ["utter_please_rephrase"] and ran.events == []
    earlier = [user_event("嗯那个啥", "nlu_fallback"), {"event": "bot", "text": "抱歉，我没太明白。"}]
    ran = await run_action(
        ActionFallback(), tracker_state(applicant, "就是那个东西", "nlu_fallback", events=earlier), domain
    )
    assert "还是没能理解" in ran.texts[0]
    assert ran.messages[-1]["custom"]["handoff"]["id"] == int(ran.slots["handoff_id"])
    assert api.call("GET", "/handoffs/current", applicant=applicant)["reason"] == "fallback"


def at(event: dict, timestamp: float) -> dict:
    return {**event, "timestamp": timestamp}


async def test_a_message_delivered_twice_is_not_a_second_misunderstanding(api, applicant, domain):
    # The copy of a message the assistant did not understand: silence, and it is taken back, so the
    # applicant's next unclear message is still the first one.
    first = at(user_event("嗯那个啥", "nlu_fallback"), 1000.0)
    state = tracker_state(applicant, events=[first, {"event": "bot", "text": "抱歉，我没太明白。"}])
    state["events"].append(at(user_event("嗯那个啥", "nlu_fallback"), 1002.5))
    ran = await run_action(ActionFallback(), state, domain)
    assert ran.messages == [] and ran.events == [{"event": "rewind", "timestamp": None}]
    with pytest.raises(AssertionError, match="404"):
        api.call("GET", "/handoffs/current", applicant=applicant)  # nobody was called

    # The copy of an understood message that no longer fits the conversation: silence too.
    answered = at(user_event("面积120平", "inform"), 2000.0)
    state = tracker_state(applicant, events=[answered, {"event": "bot", "text": "好的。"}])
    state["events"].append(at(user_event("面积120平", "nlu_fallback"), 2003.0))
    ran = await run_action(ActionFallback(), state, domain)
    assert ran.messages == [] and ran.events == [{"event": "rewind", "timestamp": None}]

    # After a copy was taken back, an unclear message is the first misunderstanding, not the second.
    history = [
        first,
        {"event": "bot", "text": "抱歉，我没太明白。"},
        at(user_event("嗯那个啥", "nlu_fallback"), 1002.5),
        {"event": "rewind"},
        at(user_event("好的", "affirm"), 1100.0),
        {"event": "bot", "text": "好的。"},
    ]
    state = tracker_state(applicant, events=history)
    state["events"].append(at(user_event("那个那个", "nlu_fallback"), 1200.0))
    ran = await run_action(ActionFallback(), state, domain)
    assert ran.responses() == ["utter_please_rephrase"]

    # The same words said again later are a new message.
    state = tracker_state(applicant, events=[first, {"event": "bot", "text": "抱歉，我没太明白。"}])
    state["events"].append(at(user_event("嗯那个啥", "nlu_fallback"), 1060.0))
    ran = await run_action(ActionFallback(), state, domain)
    assert "还是没能理解" in ran.texts[0]


async def test_a_question_about_complaining_is_answered_with_a_person_one_tap_away(api, applicant, domain):
    ran = await run_action(
        ActionComplain(), tracker_state(applicant, "窗口态度差 去哪投诉", "complain"), domain
    )
    assert "投诉" in ran.texts[0] and "\n出处：" in ran.texts[0]
    assert ran.texts[1] == COMPLAINT_OFFER
    assert ran.buttons == [{"title": "转人工", "payload": "/request_human"}]
    assert "handoff_id" not in ran.slots
    with pytest.raises(AssertionError, match="404"):  # no handoff was opened
        api.call("GET", "/handoffs/current", applicant=applicant)


@pytest.mark.parametrize("text", ["我要投诉", "为什么还没办好，我要投诉", "你们办事太慢了"])
async def test_someone_complaining_is_handed_to_a_person(api, applicant, domain, text):
    ran = await run_action(ActionComplain(), tracker_state(applicant, text, "complain"), domain)
    assert ran.responses() == ["utter_complain_ack"]
    assert ran.messages[-1]["custom"]["handoff"]["id"] == int(ran.slots["handoff_id"])
    assert api.call("GET", "/handoffs/current", applicant=applicant)["reason"] == "complaint"
