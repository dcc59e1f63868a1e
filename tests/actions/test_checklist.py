"""The questionnaire form: industry, the backend's questions one by one, validation and re-prompts,
corrections, and the merged checklist it ends in."""

import base64
import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from actions.checklist import (
    ActionApplyCorrection,
    ActionAskChecklistAnswer,
    ActionShowChecklist,
    ValidateChecklistForm,
    correction_value_text,
)
from tests.actions.conftest import form_state, load_tracker, run_action, tracker_state, user_event

FORM = "checklist_form"


def answers(package_id: str, **values: Any) -> dict[str, Any]:
    return {"package_id": package_id, "answers": values}


def images(ran: Any) -> list[str]:
    return [m["image"] for m in ran.messages if m.get("image")]


def notice_subject(url: str) -> list[Any]:
    """Whose notice a picture URL shows: the signed token's payload, ["application", code, expiry] or
    ["checklist", package id, answers, expiry]."""
    parts = urlsplit(url).path.split("/")
    assert parts[1] == "n" and parts[3] == "notice.png", url
    payload = parts[2].split(".")[0]
    return list(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def fetch_picture(api: Any, url: str) -> bytes:
    """The picture as the gateway gets it: by URL, without the service key."""
    # BACKEND_PUBLIC_URL (the fixture's) names the public host; the backend process is the same server.
    with urllib.request.urlopen(api.url + urlsplit(url).path, timeout=30) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "image/png"
        return bytes(response.read())


async def validate(domain, sender, text, intent="inform", *, requested, candidates, slots=None, **more):
    state = form_state(
        sender, text, intent, form=FORM, requested=requested, candidates=candidates, slots=slots, **more
    )
    return await run_action(ValidateChecklistForm(), state, domain)


async def answer(domain, sender, reply, intent="inform", **more):
    """The applicant's reply to the checklist question being asked."""
    return await validate(
        domain,
        sender,
        reply,
        intent,
        requested="checklist_answer",
        candidates={"checklist_answer": reply},
        **more,
    )


async def test_free_text_industry_is_found_through_the_catalog_aliases(api, applicant, domain):
    ran = await validate(
        domain,
        applicant,
        "我准备开个小火锅店",
        requested="industry",
        candidates={"industry": "我准备开个小火锅店"},
    )
    assert ran.slots["industry"] == "restaurant"
    assert ran.slots["checklist_answers"] == answers("restaurant")
    assert ran.messages == []


async def test_an_unknown_industry_is_asked_again_with_choices(api, applicant, domain):
    ran = await validate(
        domain, applicant, "开个宠物医院", requested="industry", candidates={"industry": "开个宠物医院"}
    )
    assert ran.slots["industry"] is None
    assert "没能把“开个宠物医院”对应到联办的行业" in ran.text
    assert {"title": "餐饮服务（饭店）", "payload": '/inform{"industry": "restaurant"}'} in ran.buttons


async def test_an_area_said_with_the_industry_is_not_asked_again(api, applicant, domain):
    ran = await validate(
        domain,
        applicant,
        "我要开个200平的饭店",
        "start_checklist",
        requested=None,
        candidates={"industry": "restaurant"},
        entities={"industry": "restaurant", "area": "200平"},
    )
    assert ran.slots["checklist_answers"] == answers("restaurant", area=200)


async def test_the_first_question_comes_from_the_backend_with_buttons(api, applicant, domain):
    state = tracker_state(
        applicant, slots={"industry": "restaurant", "checklist_answers": answers("restaurant")}
    )
    ran = await run_action(ActionAskChecklistAnswer(), state, domain)
    assert "按“餐饮服务（饭店）”为您准备材料清单" in ran.texts[0]
    assert "（第 1 题，共约 9 题）您打算以什么形式开办？" in ran.texts[1]
    assert [b["title"] for b in ran.buttons] == ["公司（企业）", "个体工商户"]
    assert ran.slots == {"checklist_question": "entity_type"}


async def test_a_number_question_says_what_to_reply(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant", entity_type="individual", premises="leased"),
    }
    ran = await run_action(ActionAskChecklistAnswer(), tracker_state(applicant, slots=slots), domain)
    assert "经营场所面积大约多少平方米" in ran.text and "请直接回复数字（单位：平方米）" in ran.text
    assert ran.buttons == []


async def test_an_answer_is_stored_and_the_next_question_chosen(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant"),
        "checklist_question": "entity_type",
    }
    ran = await answer(domain, applicant, "个体户", slots=slots)
    assert ran.slots == {
        "checklist_answer": None,
        "checklist_answers": answers("restaurant", entity_type="individual"),
        "checklist_question": "premises",
    }
    assert ran.messages == []


async def test_a_reply_that_does_not_fit_is_re_prompted_politely(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant", entity_type="individual", premises="leased"),
        "checklist_question": "area",
    }
    ran = await answer(domain, applicant, "挺大的", slots=slots)
    assert ran.slots == {"checklist_answer": None}
    assert ran.texts == ["抱歉，我没看懂“挺大的”这个回答。请回复一个数字（1～100000平方米），例如 120。"]
    again = [{"event": "bot", "text": ran.texts[0]}]
    ran = await answer(domain, applicant, "反正不小", slots=slots, events=again)
    assert "转人工" in ran.text


async def test_a_choice_re_prompt_says_how_to_choose_on_the_persons_channel(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant"),
        "checklist_question": "entity_type",
    }
    said = {"requested": "checklist_answer", "candidates": {"checklist_answer": "合伙的"}, "slots": slots}
    web = await validate(domain, applicant, "合伙的", **said)
    assert "点按钮或回复对应的文字都可以" in web.text
    # WeChat shows no buttons, only "回复 1 …" lines (the gateway's numbered menu)
    wechat = await validate(domain, "wechat:" + applicant.removeprefix("web:"), "合伙的", **said)
    assert "请从 “公司（企业）”、“个体工商户” 中选一个，回复编号或对应的文字都可以。" in wechat.text
    assert "按钮" not in wechat.text


async def test_nlu_area_entity_helps_read_the_number(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant", entity_type="individual", premises="leased"),
        "checklist_question": "area",
    }
    ran = await answer(domain, applicant, "差不多两百平", slots=slots, entities={"area": "两百平"})
    assert ran.slots["checklist_answers"]["answers"]["area"] == 200


async def walk_through(domain, applicant, package_id, replies: dict[str, str]) -> dict[str, Any]:
    """Answers the questionnaire as the form would, turn by turn; returns the final slots."""
    slots: dict[str, Any] = {"industry": package_id, "checklist_answers": answers(package_id)}
    for _ in range(20):
        asked = await run_action(ActionAskChecklistAnswer(), tracker_state(applicant, slots=slots), domain)
        slots.update(asked.slots)
        question = slots["checklist_question"]
        reply = replies[question]
        ran = await answer(domain, applicant, reply, slots=slots)
        assert not ran.texts, (question, reply, ran.texts)
        slots.update(ran.slots)
        if ran.slots.get("requested_slot", "still asking") is None:
            return slots
    raise AssertionError("the questionnaire did not end")


async def test_a_restaurant_questionnaire_ends_in_the_merged_checklist(api, applicant, domain):
    replies = {
        "entity_type": "个体工商户",
        "premises": "租的",
        "area": "320平",
        "food_handlers": "5个人",
        "cold_dishes": "/deny",
        "takeaway": "有外卖，美团上",
        "uses_gas": "用天然气",
        "sells_alcohol": "卖啤酒",
        "via_agent": "不用代办",
    }
    slots = await walk_through(domain, applicant, "restaurant", replies)
    assert slots["checklist_answers"]["answers"]["area"] == 320
    ran = await run_action(ActionShowChecklist(), tracker_state(applicant, slots=slots), domain)
    text = ran.text
    assert "· 经营场所面积大约多少平方米：320 平方米" in text
    # 300 m² and more: fire safety check added; takeaway and gas add their materials, with reasons.
    assert "消防安全检查" in text and "食品经营许可证" in text and "营业执照" in text
    assert "外卖" in text and "燃气" in text
    assert "关键材料" in text and "可容缺后补" in text
    assert {"title": "开始申请", "payload": "/start_application"} in ran.buttons
    assert ran.slots == {"checklist_answer": None, "checklist_question": None}
    # It ends in the one-time notice picture too, before the offer to apply, at a URL the gateway can fetch.
    [picture] = images(ran)
    assert picture.startswith("https://zwfw.example.gov.cn/n/") and picture.endswith("/notice.png")
    kind, package_id, signed_answers, _ = notice_subject(picture)
    assert (kind, package_id, signed_answers["area"], signed_answers["takeaway"]) == (
        "checklist",
        "restaurant",
        320,
        True,
    )
    order = [m.get("image") or m.get("text", "") for m in ran.messages]
    assert order.index(picture) < next(i for i, said in enumerate(order) if said.startswith("材料备齐后"))
    assert fetch_picture(api, picture)[:8] == b"\x89PNG\r\n\x1a\n"


async def test_switching_industry_mid_form_starts_afresh(api, applicant, domain):
    slots = {"industry": "supermarket", "checklist_answers": answers("supermarket", entity_type="company")}
    ran = await validate(
        domain,
        applicant,
        "不是超市，是便利店",
        "correct",
        requested="checklist_answer",
        candidates={"industry": "small_shop"},
        slots=slots,
        entities={"industry": "small_shop"},
    )
    assert ran.slots["industry"] == "small_shop"
    assert ran.slots["checklist_answers"] == answers("small_shop")
    assert "行业改为“小经营店”" in ran.text


def test_the_new_value_is_read_out_of_a_correction():
    assert "250" in correction_value_text("不是200，是250平")
    assert "200" not in correction_value_text("不是200，是250平")
    assert correction_value_text("不对，有外卖").strip("，") == "有外卖"
    assert "150" in correction_value_text("刚才说错了，是150平不是100")


async def test_correcting_the_area_inside_the_form(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_question": "food_handlers",
        "checklist_answers": answers("restaurant", entity_type="individual", premises="leased", area=100),
    }
    state = tracker_state(
        applicant, "不对，面积是200平", "correct", entities={"area": "200平"}, slots=slots, active_loop=FORM
    )
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert ran.slots["checklist_answers"]["answers"]["area"] == 200
    assert ran.texts == ["好的，已改为：经营场所面积大约多少平方米 —— 200 平方米。"]


async def test_a_number_nlu_took_for_a_phone_corrects_the_question_it_names(api, applicant, domain):
    # "5" was once tagged as a phone number: the reply was "联系电话改为 5", and the headcount stayed.
    slots = {
        "industry": "restaurant",
        "checklist_question": "cold_dishes",
        "checklist_answers": answers(
            "restaurant", entity_type="individual", premises="leased", area=100, food_handlers=3
        ),
    }
    state = tracker_state(
        applicant, "不对，人数是5个", "correct", entities={"phone": "5"}, slots=slots, active_loop=FORM
    )
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert "联系电话" not in ran.text and "phone" not in ran.slots
    assert ran.slots["checklist_answers"]["answers"]["food_handlers"] == 5


async def test_an_unclear_correction_inside_the_form_re_asks_the_last_question(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_question": "area",
        "checklist_answers": answers("restaurant", entity_type="individual", premises="leased"),
    }
    state = tracker_state(applicant, "刚才那个选错了", "correct", slots=slots, active_loop=FORM)
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert ran.slots["checklist_answers"] == answers("restaurant", entity_type="individual")
    assert ran.texts == ["好的，我们重新回答上一个问题。"]


async def test_a_correction_after_the_checklist_updates_it(api, applicant, domain):
    done = {
        "entity_type": "individual",
        "premises": "leased",
        "area": 80,
        "food_handlers": 2,
        "cold_dishes": False,
        "takeaway": False,
        "uses_gas": False,
        "sells_alcohol": True,
        "via_agent": False,
    }
    slots = {"industry": "restaurant", "checklist_answers": answers("restaurant", **done)}
    state = tracker_state(applicant, "说错了，我们有外卖", "correct", slots=slots)
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert ran.slots["checklist_answers"]["answers"]["takeaway"] is True
    assert ran.texts[0] == "好的，已改为：是否提供外卖（含通过外卖平台接单） —— 是。"
    assert "更新后的回答" in ran.texts[1] and "外卖" in ran.text
    # The corrected checklist comes with its notice picture, drawn from the corrected answers.
    [picture] = images(ran)
    assert notice_subject(picture)[:2] == ["checklist", "restaurant"]
    assert notice_subject(picture)[2]["takeaway"] is True


async def test_a_question_read_as_a_correction_with_nothing_to_correct_is_answered(api, applicant, domain):
    # DIET read it as a correction and tagged 面馆; nothing has been answered yet, so it is a question, not
    # a change of industry.
    said = "我在兰山区想开个小面馆，营业执照和食品经营许可证能一块儿办不"
    state = tracker_state(
        applicant, said, "correct", entities={"industry": "面馆"}, slots={"industry": "面馆"}
    )
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert "\n出处：" in ran.text and "行业改为" not in ran.text
    assert ran.slots.get("checklist_answers") is None
    # Once the questionnaire has answers, the same kind of message corrects them.
    slots = {"industry": "restaurant", "checklist_answers": answers("restaurant", takeaway=False)}
    state = tracker_state(applicant, "说错了，我们有外卖", "correct", slots=slots)
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert ran.slots["checklist_answers"]["answers"]["takeaway"] is True


async def test_a_phone_correction_updates_the_draft(api, applicant, domain):
    created = api.application(applicant)
    state = tracker_state(
        applicant,
        "电话写错了，是13812345678",
        "correct",
        entities={"phone": "13812345678"},
        slots={"application_code": created["code"]},
    )
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert ran.texts == [f"好的，申请 {created['code']} 的联系电话已改为 13812345678。"]
    assert (
        api.call("GET", f"/applications/{created['code']}", applicant=applicant)["applicant"]["phone"]
        == "13812345678"
    )


async def test_finished_answers_sync_into_the_open_draft(api, applicant, domain):
    created = api.application(applicant, "bookstore")
    done = api.complete_answers("bookstore")
    slots = {
        "industry": "bookstore",
        "checklist_answers": answers("bookstore", **done),
        "application_code": created["code"],
    }
    ran = await run_action(ActionShowChecklist(), tracker_state(applicant, slots=slots), domain)
    assert f"已把这些回答同步到您的申请 {created['code']}" in ran.text
    assert api.call("GET", f"/applications/{created['code']}", applicant=applicant)["answers"] == done
    # One picture, the application's own notice (its materials' status), not a second one of the checklist.
    [picture] = images(ran)
    assert notice_subject(picture)[:2] == ["application", created["code"]]
    assert len(fetch_picture(api, picture)) > 10_000


ASKING_HANDLERS = {
    "industry": "restaurant",
    "checklist_answers": answers("restaurant", entity_type="individual", premises="leased", area=80),
    "checklist_question": "food_handlers",
}
ASKING_GAS = {
    "industry": "restaurant",
    "checklist_answers": answers(
        "restaurant",
        entity_type="individual",
        premises="leased",
        area=80,
        food_handlers=2,
        cold_dishes=False,
        takeaway=False,
    ),
    "checklist_question": "uses_gas",
}


async def test_an_answer_wins_over_a_doubtful_intent(api, applicant, domain):
    # NLU once read "3个人" as 人工 (request_human) and "5" as goodbye: the answer is what counts.
    for reply, intent, confidence in [("3个人", "request_human", 0.8), ("5", "goodbye", 0.96)]:
        ran = await answer(domain, applicant, reply, intent, slots=ASKING_HANDLERS, confidence=confidence)
        assert "food_handlers" in ran.slots["checklist_answers"]["answers"], reply
    ran = await answer(domain, applicant, "不用代办", "ask_policy", slots=ASKING_GAS, confidence=0.67)
    assert ran.slots["checklist_answers"]["answers"]["uses_gas"] is False


async def test_everyday_answers_are_read_against_the_question(api, applicant, domain):
    # Coal is not gas, whatever intent NLU guessed; the reading is said back, so a misreading shows.
    for intent, candidate in [("inform", "烧煤的"), ("affirm", "yes")]:
        ran = await validate(
            domain,
            applicant,
            "烧煤的",
            intent,
            requested="checklist_answer",
            candidates={"checklist_answer": candidate},
            slots=ASKING_GAS,
        )
        assert ran.slots["checklist_answers"]["answers"]["uses_gas"] is False, intent
        assert "“后厨是否使用燃气（天然气、液化石油气）”记为“否”" in ran.text
    # Asked whether an agent handles it, "自己办" means no agent.
    ran = await answer(domain, applicant, "自己办", slots={**ASKING_GAS, "checklist_question": "via_agent"})
    assert ran.slots["checklist_answers"]["answers"]["via_agent"] is False
    assert "抱歉" not in ran.text
    # A count stated as a total: the total wins.
    ran = await answer(domain, applicant, "厨房三个人加我四个", slots=ASKING_HANDLERS)
    assert ran.slots["checklist_answers"]["answers"]["food_handlers"] == 4
    assert ran.messages == []


async def test_not_being_sure_keeps_the_question_open_and_explains_it(api, applicant, domain):
    # "不太清楚" was stored as "否" (because of 不): no gas contract on the list, and nobody noticed.
    # NLU may take it for deny, so the slot mapping offers "no".
    ran = await validate(
        domain,
        applicant,
        "不太清楚",
        "deny",
        requested="checklist_answer",
        candidates={"checklist_answer": "no"},
        slots=ASKING_GAS,
    )
    assert ran.slots == {"checklist_answer": None}  # nothing stored, the same question stays asked
    [said] = ran.texts
    assert said.startswith("没关系，拿不准很正常")
    assert "这题问的是：后厨是否使用燃气（天然气、液化石油气）？" in said
    # uses_gas has no help text in the catalog: the question itself is put as a rule of thumb.
    assert "如果后厨使用燃气（天然气、液化石油气），就选“是”；否则选“否”。" in said
    # What the answer changes, from the backend's checklists for each answer.
    assert "· 选“是”：要准备【燃气使用安全证明】。" in said and "· 选“否”：不需要这些。" in said
    assert "转人工" in said
    assert ran.buttons == [
        {"title": "是", "payload": "/affirm"},
        {"title": "否", "payload": "/deny"},
        {"title": "转人工", "payload": "/request_human"},
    ]

    # The form then asks for the slot again: the explanation already showed the question and its buttons.
    this_turn = [user_event("不太清楚", "deny"), {"event": "bot", "text": said}]
    asked = await run_action(
        ActionAskChecklistAnswer(), tracker_state(applicant, slots=ASKING_GAS, events=this_turn), domain
    )
    assert asked.messages == [] and asked.slots == {"checklist_question": "uses_gas"}
    # The next turn asks as usual.
    later = [*this_turn, user_event("好的", "affirm")]
    asked = await run_action(
        ActionAskChecklistAnswer(), tracker_state(applicant, slots=ASKING_GAS, events=later), domain
    )
    assert "后厨是否使用燃气" in asked.text

    # Once sure, the answer is taken; a real "no" is still a no.
    for reply, intent, value in [("用的天然气", "inform", True), ("没有的", "deny", False)]:
        ran = await answer(domain, applicant, reply, intent, slots=ASKING_GAS)
        assert ran.slots["checklist_answers"]["answers"]["uses_gas"] is value, reply


async def test_not_sure_which_option_shows_what_each_one_needs(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": answers("restaurant", entity_type="individual"),
        "checklist_question": "premises",
    }
    ran = await answer(domain, applicant, "不知道怎么选", slots=slots)
    assert ran.slots == {"checklist_answer": None}
    # The catalog's help text for the question, then what each option brings.
    assert "决定您需要带哪种场所使用证明" in ran.text
    assert "· 选“租赁”：要准备【房屋租赁合同】【房屋产权证明】。" in ran.text
    assert "· 选“房屋没有产权证明”：要准备【村（居）委会出具的场所使用证明】。" in ran.text
    assert [b["title"] for b in ran.buttons] == [
        "自有房产",
        "租赁",
        "亲友或单位无偿提供",
        "房屋没有产权证明",
        "转人工",
    ]


async def test_not_sure_of_a_number_is_no_zero(api, applicant, domain):
    # "无" and "没有" used to count as 0 people: no health certificates on the list.
    ran = await answer(domain, applicant, "暂时无法确定，还没招人", slots=ASKING_HANDLERS)
    assert ran.slots == {"checklist_answer": None}
    assert "如厨师、面点师、配餐员" in ran.text  # the catalog's help text
    assert "估一个大概的数" in ran.text
    # A restaurant needs health certificates whatever the count: nothing is claimed to depend on it.
    assert "这个数字会影响" not in ran.text
    assert ran.buttons == [{"title": "转人工", "payload": "/request_human"}]
    # The area does decide licences: what it may bring is said.
    slots = {**ASKING_HANDLERS, "checklist_question": "area"}
    slots["checklist_answers"] = answers("restaurant", entity_type="individual", premises="leased")
    ran = await answer(domain, applicant, "还没量过，说不好", slots=slots)
    assert ran.slots == {"checklist_answer": None}
    assert "这个数字会影响要办哪些证照：" in ran.text
    assert "【公众聚集场所投入使用、营业前消防安全检查合格证】" in ran.text and "以及相应的材料" in ran.text
    # An estimate is an answer, hedge and all (the explanation asks for one).
    ran = await answer(domain, applicant, "不确定，大概200平吧", slots=slots)
    assert ran.slots["checklist_answers"]["answers"]["area"] == 200
    assert "这个数字会影响" not in ran.text


async def test_not_being_sure_stays_in_the_form_unless_a_person_is_asked_for(api, applicant, domain):
    # "什么意思" reads like a policy question; the explanation of the question answers it better.
    ran = await answer(
        domain, applicant, "不懂这是什么意思？", "ask_policy", slots=ASKING_GAS, confidence=0.8
    )
    assert ran.texts[0].startswith("没关系，拿不准很正常")
    ran = await answer(
        domain, applicant, "说不清楚，转人工吧", "request_human", slots=ASKING_GAS, confidence=0.97
    )
    assert ran.messages == []
    assert ran.events[-1]["event"] == "action_execution_rejected"


async def test_interruptions_reject_the_form_so_their_rule_answers(api, applicant, domain):
    for reply, intent in [
        ("转人工", "request_human"),
        ("什么是容缺受理", "ask_policy"),
        ("你好", "greet"),
        ("算了", "cancel"),
        ("多久能办好", "ask_time_limit"),
    ]:
        ran = await answer(domain, applicant, reply, intent, slots=ASKING_GAS)
        assert ran.events == [
            {"event": "slot", "timestamp": None, "name": "checklist_answer", "value": None},
            {
                "event": "action_execution_rejected",
                "name": "checklist_form",
                "policy": None,
                "confidence": None,
                "timestamp": None,
            },
        ], reply
        assert ran.messages == []


async def test_naming_an_industry_in_a_question_answers_the_industry_question(api, applicant, domain):
    ran = await validate(
        domain,
        applicant,
        "开药店要办什么证",
        "ask_licences_for_industry",
        requested="industry",
        candidates={"industry": "pharmacy"},
        entities={"industry": "pharmacy"},
    )
    assert ran.slots["industry"] == "pharmacy"


async def test_a_tracker_captured_from_rasa_mid_questionnaire(api, applicant, domain):
    # tests/actions/trackers/restaurant_asking_area.json: GET /conversations/<id>/tracker after
    # 你好 → 开火锅店要办哪些证 → /start_checklist → 个体户 → 租的, with the real Rasa and actions.
    captured = load_tracker("restaurant_asking_area", applicant)
    assert captured["active_loop"]["name"] == FORM
    asked = await run_action(ActionAskChecklistAnswer(), captured, domain)
    assert "（第 3 题，共约 9 题）经营场所面积大约多少平方米？" in asked.text
    assert len(asked.texts) == 1  # the introduction came with the first question only
    reply = "两百平左右"
    state = form_state(
        applicant, reply, "inform", form=FORM, requested="checklist_answer",
        candidates={"checklist_answer": reply}, slots=captured["slots"], events=captured["events"],
        entities={"area": "两百平"},
    )  # fmt: skip
    ran = await run_action(ValidateChecklistForm(), state, domain)
    answers_now = ran.slots["checklist_answers"]["answers"]
    assert answers_now == {"entity_type": "individual", "premises": "leased", "area": 200}
    assert ran.slots["checklist_question"] == "food_handlers"


async def test_restarting_the_questionnaire_resumes_where_it_stopped(api, applicant, domain):
    kept = answers("restaurant", entity_type="individual", premises="leased")
    history = [{"event": "slot", "name": "checklist_answers", "value": kept}]
    state = tracker_state(
        applicant,
        "帮我列个材料清单",
        "start_checklist",
        slots={"industry": "restaurant", "checklist_answers": kept},
        events=history,
    )
    state["events"].append({"event": "active_loop", "name": FORM})
    ran = await run_action(ActionAskChecklistAnswer(), state, domain)
    assert ran.texts[0] == "好的，我们接着上次的问题继续（已回答 2 题）。"
    assert "（第 3 题，共约 9 题）" in ran.texts[1]


async def test_an_unsure_reading_of_a_question_asked_for_the_industry_gets_the_answer(api, applicant, domain):
    # NLU is unsure (nlu_fallback) of 以后能加进来不: no industry, and a question the documents answer.
    text = "我这个行业不在名单里，以后能加进来不"
    ran = await validate(
        domain,
        applicant,
        text,
        "nlu_fallback",
        requested="industry",
        candidates={"industry": text},
        confidence=0.55,
    )
    assert ran.slots["industry"] is None
    [message] = ran.messages
    assert "\n出处：" in message["text"] and "没能把" not in message["text"]

    ran = await validate(
        domain, applicant, "嗯那个", "nlu_fallback", requested="industry", candidates={"industry": "嗯那个"}
    )
    assert ran.slots["industry"] is None and "没能把“嗯那个”对应到联办的行业" in ran.text
