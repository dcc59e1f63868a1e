"""好差评: the score, a reason for low scores, linked to the handoff or application it is about."""

import json

import yaml
from rasa_sdk import Tracker

from actions.dialogue import interrupts
from actions.ratings import ActionAskScore, ActionRate, ValidateRatingForm
from tests.actions.conftest import ROOT, form_state, run_action, tracker_state

FORM = "rating_form"


async def test_a_high_score_needs_no_comment(api, applicant, domain):
    state = form_state(
        applicant, '/rate{"score": "5"}', "rate", form=FORM, requested=None, candidates={"score": "5"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "5", "rating_target": None, "rating_comment": None, "requested_slot": None}


async def test_a_low_score_asks_for_the_reason_unless_it_came_with_it(api, applicant, domain):
    state = form_state(
        applicant, '/rate{"score": "2"}', "rate", form=FORM, requested=None, candidates={"score": "2"}
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "2", "rating_target": None, "rating_comment": None}  # the form asks why
    said = "只能给2分，太慢了"
    state = form_state(applicant, said, "rate", form=FORM, requested=None, candidates={"score": "2分"})
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "2", "rating_target": None, "rating_comment": said}


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


async def test_on_wechat_the_retry_hint_speaks_of_numbers_not_buttons(api, applicant, domain):
    sender = "wechat:" + applicant.removeprefix("web:")
    state = form_state(sender, "随便", "inform", form=FORM, requested="score", candidates={"score": "随便"})
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.text == "请回复 1～5 的分数（5 分最满意）。"


async def test_the_score_question_names_the_scores_as_everyone_does(applicant, domain):
    names = yaml.safe_load((ROOT / "config" / "ratings.yaml").read_text(encoding="utf-8"))["scores"]
    ran = await run_action(ActionAskScore(), tracker_state(applicant), domain)
    assert "打个分" in ran.text
    # ascending, 1 = 非常不满意 as in the notices and the console; JSON payloads Rasa does not interpolate
    assert ran.buttons == [
        {"title": f"{n}分 {names[n]}", "payload": "/rate" + json.dumps({"score": str(n)})}
        for n in range(1, 6)
    ]
    assert ran.buttons[0]["title"] == "1分 非常不满意"
    assert "action_ask_score" in domain["actions"]
    assert not {"utter_ask_score", "utter_ask_rating"} & set(domain["responses"]), "one score question"


async def test_without_a_score_the_rating_action_asks_for_one(api, applicant, domain):
    ran = await run_action(ActionRate(), tracker_state(applicant, "我要评价", "rate"), domain)
    assert [b["payload"] for b in ran.buttons] == [f'/rate{{"score": "{n}"}}' for n in range(1, 6)]


def test_json_payloads_in_domain_responses_have_their_braces_doubled(domain):
    # Rasa formats `{slot}` templates in responses (buttons included); single JSON braces log an ERROR
    payloads = [
        b["payload"]
        for variants in domain["responses"].values()
        for variant in variants
        for b in variant.get("buttons") or []
    ]
    with_json = [p for p in payloads if "{" in p]
    assert with_json and all("{{" in p and p.endswith("}}") for p in with_json), with_json


async def test_the_rating_of_a_handoff(api, applicant, domain):
    handoff = api.call("POST", "/handoffs", {"reason": "asked"}, applicant=applicant)
    api.call("POST", f"/handoffs/{handoff['id']}/close", token=api.staff_token())
    slots = {"score": "1", "rating_comment": "等了很久没人回", "handoff_id": str(handoff["id"])}
    ran = await run_action(ActionRate(), tracker_state(applicant, slots=slots), domain)
    assert "收到您的 1 分评价，很抱歉没能让您满意" in ran.text
    assert ran.slots == {"score": None, "rating_comment": None, "rating_target": None, "handoff_id": None}
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


# --- rating buttons under notices: /rate{"score": …, "handoff_id" | "application_code": …} -----------------


def ratings_posted(api, applicant):
    """What the backend recorded for this applicant (its rating.created events), oldest first."""
    found, after = [], 0
    while batch := api.call("GET", f"/events?after={after}&limit=1000")["events"]:
        found += [e for e in batch if e["type"] == "rating.created" and e["applicant"] == applicant]
        after = batch[-1]["id"]
    return [{**e["payload"], "application_code": e["application_code"]} for e in found]


def closed_handoff(api, applicant):
    handoff = api.call("POST", "/handoffs", {"reason": "asked"}, applicant=applicant)
    api.call("POST", f"/handoffs/{handoff['id']}/close", token=api.staff_token())
    return str(handoff["id"])


def payload(score, **target):
    entities = ", ".join(f'"{k}": "{v}"' for k, v in {"score": score, **target}.items())
    return f"/rate{{{entities}}}"


async def test_a_handoff_button_rates_that_handoff_not_the_one_remembered(api, applicant, domain):
    ended, remembered = closed_handoff(api, applicant), closed_handoff(api, applicant)
    text = payload("5", handoff_id=ended)
    state = tracker_state(
        applicant,
        text,
        "rate",
        entities={"score": "5", "handoff_id": ended},
        slots={"score": "5", "handoff_id": remembered},
    )
    ran = await run_action(ActionRate(), state, domain)
    assert "收到您的 5 分评价，感谢您的认可" in ran.text
    assert [(r["handoff_id"], r["score"]) for r in ratings_posted(api, applicant)] == [(int(ended), 5)]
    # The remembered handoff was not rated, so it stays on offer.
    assert "handoff_id" not in ran.slots and ran.slots["rating_target"] is None


async def test_an_issued_licence_button_rates_that_application_over_a_remembered_handoff(
    api, applicant, domain
):
    done = api.issue_licence(applicant)
    remembered = closed_handoff(api, applicant)
    code = done["code"].lower().replace("-", "")  # any case, dashes optional, as the backend accepts
    state = tracker_state(
        applicant,
        payload("4", application_code=code),
        "rate",
        entities={"score": "4", "application_code": code},
        slots={"score": "4", "handoff_id": remembered, "rating_application": done["code"]},
    )
    ran = await run_action(ActionRate(), state, domain)
    assert "收到您的 4 分评价" in ran.text
    posted = ratings_posted(api, applicant)
    assert [(r["application_code"], r["handoff_id"], r["score"]) for r in posted] == [(done["code"], None, 4)]
    assert ran.slots["rating_application"] is None and "handoff_id" not in ran.slots


async def test_a_low_score_from_a_button_keeps_its_target_while_the_comment_is_asked(api, applicant, domain):
    ended = closed_handoff(api, applicant)
    other = closed_handoff(api, applicant)
    text = payload("2", handoff_id=ended)
    state = form_state(
        applicant,
        text,
        "rate",
        form=FORM,
        requested=None,  # the button arrived out of the blue: the form starts with it
        candidates={"score": "2"},
        entities={"score": "2", "handoff_id": ended},
        slots={"handoff_id": other},
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "2", "rating_target": {"handoff_id": int(ended)}, "rating_comment": None}

    comment = "等了半个小时才有人回，只能给1分"  # a score inside the comment does not move the target
    slots = {"handoff_id": other, "rating_target": {"handoff_id": int(ended)}}
    state = form_state(
        applicant,
        comment,
        "rate",
        form=FORM,
        requested="rating_comment",
        candidates={"score": "1分", "rating_comment": comment},
        slots={**slots, "score": "2"},
        entities={"score": "1分"},
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots["rating_comment"] == comment and "rating_target" not in ran.slots

    slots = {**slots, "score": "1", "rating_comment": comment}
    ran = await run_action(ActionRate(), tracker_state(applicant, comment, "rate", slots=slots), domain)
    assert "很抱歉没能让您满意" in ran.text
    posted = ratings_posted(api, applicant)
    assert [(r["handoff_id"], r["score"], r["comment"]) for r in posted] == [(int(ended), 1, comment)]
    assert ran.slots["rating_target"] is None and ran.slots["score"] is None


async def test_a_typed_score_drops_the_target_of_an_abandoned_button(api, applicant, domain):
    state = form_state(
        applicant,
        "4",
        "inform",
        form=FORM,
        requested="score",
        candidates={"score": "4"},
        slots={"rating_target": {"handoff_id": 99999}},
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    assert ran.slots == {"score": "4", "rating_target": None, "rating_comment": None, "requested_slot": None}


async def test_a_new_rating_without_a_score_asks_for_one_instead_of_posting_an_abandoned_one(
    api, applicant, domain
):
    # "2分" → asked why → "算了" (the form was cancelled, the slots stayed) → later "我要评价": Rasa hands
    # the left-over score and comment to the form as pre-filled.
    left = {"score": "2", "rating_comment": "太慢"}
    state = form_state(
        applicant,
        "我要评价",
        "rate",
        form=FORM,
        requested=None,
        candidates=left,
        slots={"rating_target": {"handoff_id": 7}},
    )
    ran = await run_action(ValidateRatingForm(), state, domain)
    # All cleared, so Rasa's form asks for the score next.
    assert ran.slots == {"score": None, "rating_comment": None, "rating_target": None}


async def test_a_button_for_someone_elses_handoff_rates_nothing(api, applicant, domain):
    theirs = closed_handoff(api, applicant + "-other")
    state = tracker_state(
        applicant,
        payload("1", handoff_id=theirs),
        "rate",
        entities={"score": "1", "handoff_id": theirs},
        slots={"score": "1"},
    )
    ran = await run_action(ActionRate(), state, domain)
    assert "没有找到您要评价的这次服务记录" in ran.text
    assert ratings_posted(api, applicant) == []


async def test_a_button_pressed_twice_is_rated_once(api, applicant, domain):
    ended = closed_handoff(api, applicant)
    state = tracker_state(
        applicant,
        payload("5", handoff_id=ended),
        "rate",
        entities={"score": "5", "handoff_id": ended},
        slots={"score": "5", "handoff_id": ended},
    )
    first = await run_action(ActionRate(), state, domain)
    assert first.slots["handoff_id"] is None  # rated: no longer on offer
    again = await run_action(ActionRate(), state, domain)
    assert "已经评价过了" in again.text and len(ratings_posted(api, applicant)) == 1


def test_a_rating_button_interrupts_any_other_form(applicant):
    # Even where any words would pass as an answer (a shop name), the button is not one.
    state = tracker_state(applicant, payload("5", handoff_id="3"), "rate", active_loop="application_form")
    assert interrupts(Tracker.from_dict(state), answers=True, free_text=True)
