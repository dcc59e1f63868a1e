"""End-to-end: the real Rasa server and action server against the real backend, through Rasa's REST channel
(``POST /webhooks/rest/webhook {"sender", "message"}``), exactly as the gateway talks to it.

One set of servers for the module (tests/rasa/conftest.py); each test speaks as a sender of its own.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.rasa.conftest import REDIS_DB, REDIS_HOST, REDIS_PORT, Assistant, buttons, texts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def answer_until_checklist(assistant: Assistant, sender: str, replies: dict[str, str]) -> list[dict]:
    """Answers the questionnaire's questions (recognised by their words) until the checklist arrives."""
    reply = assistant.say(sender, "/start_checklist")
    for _ in range(15):
        said = texts(reply)
        if "需要准备的材料" in said:
            return reply
        question = next((answer for words, answer in replies.items() if words in said), None)
        assert question is not None, f"unexpected question: {said}"
        reply = assistant.say(sender, question)
    raise AssertionError("the questionnaire did not end")


RESTAURANT_REPLIES = {
    "以什么形式开办": "个体户",
    "自有房产还是租赁": "租的",
    "面积大约多少平方米": "两百平左右",
    "从业人员有几人": "3个人",
    "凉菜": "不做凉菜",
    "外卖": "有外卖，美团上",
    "燃气": "用天然气",
    "酒类": "卖点啤酒",
    "代办": "不用代办，自己办",
}


def test_a_restaurant_from_hello_through_the_questionnaire_to_the_checklist(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    hello = assistant.say(sender, "你好")
    assert "证照联办" in texts(hello)

    licences = assistant.say(sender, "开火锅店要办哪些证")
    said = texts(licences)
    assert "开火锅店属于“餐饮服务（饭店）”" in said
    assert "营业执照" in said and "食品经营许可证" in said
    assert {"title": "好的，帮我列清单", "payload": "/start_checklist"} in buttons(licences)

    first = assistant.say(sender, "/start_checklist")
    assert "您打算以什么形式开办" in texts(first)  # the industry is remembered from the question
    assert [b["title"] for b in buttons(first)] == ["公司（企业）", "个体工商户"]

    # A reply that does not fit is re-asked politely; an interruption is answered, then the question again.
    assistant.say(sender, "个体户")
    assistant.say(sender, "租的")
    puzzled = assistant.say(sender, "挺大的")
    assert "抱歉，我没看懂“挺大的”" in texts(puzzled) and "面积" in texts(puzzled)
    # Not sure is no answer: the question stays open, explained, and a person is offered.
    unsure = assistant.say(sender, "不太清楚")
    assert "拿不准很正常" in texts(unsure) and "面积" in texts(unsure)
    assert "转人工" in [b["title"] for b in buttons(unsure)]
    how_long = assistant.say(sender, "多久能办好")
    assert "承诺3个工作日" in texts(how_long) and "面积" in texts(how_long)

    checklist = answer_until_checklist(assistant, sender, RESTAURANT_REPLIES)
    said = texts(checklist)
    assert "· 经营场所面积大约多少平方米：200 平方米" in said
    assert "需要准备的材料共" in said and "【关键材料】" in said and "可容缺后补" in said
    assert "外卖" in said and "燃气" in said
    assert {"title": "开始申请", "payload": "/start_application"} in buttons(checklist)

    # A correction after the checklist: 320 m² brings the fire safety check in.
    corrected = assistant.say(sender, "不对，面积是320平")
    assert "320 平方米" in texts(corrected) and "消防安全检查" in texts(corrected)


def test_a_policy_question_is_answered_with_its_citation(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    answer = texts(assistant.say(sender, "什么是容缺受理"))  # answer, then source and link (two bubbles)
    assert "容缺" in answer
    assert "出处：《临沂市推行“证照联办”工作实施方案》" in answer
    link = re.search(r"查看原文：(\S+)", answer)
    assert link and link.group(1).startswith(assistant.backend.url + "/policies/")

    nothing = assistant.say(sender, "今天股市行情怎么样")
    # Out of scope or not found: never a made-up policy.
    assert "出处" not in texts(nothing)

    # A person's own papers asked about with a time word: out of scope, not the industry menu of
    # processing times.
    passport = texts(assistant.say(sender, "护照办下来要几天"))
    assert "出处" not in passport and "行业" not in passport
    assert "超出了我的服务范围" in passport or "帮不上忙" in passport

    # Lunch, not the window's lunch break (中午 is read as the office hours by the search's lexicon).
    lunch = texts(assistant.say(sender, "中午吃啥好"))
    assert "出处" not in lunch and "办公时间" not in lunch


def test_progress_of_the_applicants_application(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    none = assistant.say(sender, "办到哪一步了")
    assert "还没有申请记录" in texts(none)

    accepted = assistant.backend.accepted_application(sender)
    progress = texts(assistant.say(sender, "/check_progress"))  # the menu's 办理进度 button
    assert f"申请 {accepted['code']}（书店·开办）" in progress
    assert "市场监督管理局｜营业执照" in progress and "前办结" in progress


def test_asking_for_a_person_starts_human_mode(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    replies = assistant.say(sender, "转人工")
    handoff = next(r["custom"]["handoff"] for r in replies if r.get("custom"))
    assert texts(replies).startswith(("已为您转接人工服务", "现在是非工作时间"))
    current = assistant.backend.call("GET", "/handoffs/current", applicant=sender)
    assert current["id"] == handoff["id"] and current["reason"] == "asked"


def test_an_application_with_an_upload_and_a_confirmed_submission(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    assistant.say(sender, "我要开书店，帮我列下材料")
    answer_until_checklist(
        assistant,
        sender,
        {
            "以什么形式开办": "个体工商户",
            "自有房产还是租赁": "自有房产",
            "集中空调": "没有",
            "代办": "不需要",
        },
    )
    assistant.say(sender, "我要申请")
    assistant.say(sender, "书香小屋")
    assistant.say(sender, "李四")
    assistant.say(sender, "兰山区通达路2号")
    created = texts(assistant.say(sender, "13912345678"))
    code = re.search(r"统一编码：(ZL-\d{8}-[0-9A-Z]{6})", created)
    assert code, created

    photo = assistant.backend.upload(sender)
    payload = json.dumps({"file_id": photo["file_id"], "content_type": "image/jpeg"}, separators=(",", ":"))
    filed = texts(assistant.say(sender, f"/upload_material{payload}"))
    assert f"已作为【证照联办综合申请表】登记到申请 {code.group(1)}" in filed

    application = assistant.backend.call("GET", f"/applications/{code.group(1)}", applicant=sender)
    for material in application["materials"]:
        assistant.backend.call(
            "POST",
            f"/applications/{code.group(1)}/materials",
            {"material_id": material["material_id"]},
            applicant=sender,
        )
    confirm = assistant.say(sender, "提交申请")
    assert "确认提交吗？" in texts(confirm)
    submitted = texts(assistant.say(sender, "/affirm"))
    assert f"提交成功！申请 {code.group(1)} 已受理" in submitted


def test_a_refused_application_is_applied_for_again_and_submitted(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    refused = assistant.backend.refuse(
        sender, assistant.backend.accepted_application(sender), "经营场所为住宅"
    )
    # The refusal notice's button, or words: both reapply.
    replies = assistant.say(sender, "整改好了能重新申请吗")
    said = texts(replies)
    code = re.search(r"新的统一编码：(ZL-\d{8}-[0-9A-Z]{6})", said)
    assert code and f"原申请 {refused['code']} 不予许可" in said, said
    assert "营业执照：不予许可，理由：经营场所为住宅" in said and "都已带过来" in said
    assert {"title": "提交申请", "payload": "/submit_application"} in buttons(replies)
    again = texts(assistant.say(sender, "/reapply"))
    assert f"新建过一份申请，统一编码 {code.group(1)}" in again

    assert "确认提交吗？" in texts(assistant.say(sender, "提交申请"))
    submitted = texts(assistant.say(sender, "/affirm"))
    assert f"提交成功！申请 {code.group(1)} 已受理" in submitted
    new = assistant.backend.call("GET", f"/applications/{code.group(1)}", applicant=sender)
    assert new["previous_code"] == refused["code"] and new["status"] == "accepted"


def ratings_posted(assistant: Assistant, sender: str) -> list[dict]:
    """The ratings the backend recorded for `sender` (its rating.created events), oldest first."""
    found, after = [], 0
    while batch := assistant.backend.call("GET", f"/events?after={after}&limit=1000")["events"]:
        found += [e for e in batch if e["type"] == "rating.created" and e["applicant"] == sender]
        after = batch[-1]["id"]
    return [{**e["payload"], "application_code": e["application_code"]} for e in found]


def test_nonsense_twice_brings_a_person(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    first = texts(assistant.say(sender, "😂😂😂"))
    assert "能换个说法再说一次吗" in first
    with pytest.raises(AssertionError, match="404"):  # no handoff yet
        assistant.backend.call("GET", "/handoffs/current", applicant=sender)
    second = assistant.say(sender, "asdfgh")
    assert "还是没能理解您的意思" in texts(second)
    handoff = next(r["custom"]["handoff"] for r in second if r.get("custom"))
    current = assistant.backend.call("GET", "/handoffs/current", applicant=sender)
    assert current["id"] == handoff["id"] and current["reason"] == "fallback"
    detail = assistant.backend.call(
        "GET", f"/handoffs/{handoff['id']}", token=assistant.backend.staff_token()
    )
    assert detail["note"] == "😂😂😂 / asdfgh"  # staff see what was not understood


def test_the_rating_button_of_a_handoff_ended_notice_rates_that_handoff(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    replies = assistant.say(sender, "转人工")
    handoff = next(r["custom"]["handoff"] for r in replies if r.get("custom"))
    assistant.backend.call("POST", f"/handoffs/{handoff['id']}/close", token=assistant.backend.staff_token())
    # The notifier's notice, not the assistant, offered the buttons: the payload arrives out of the blue.
    rated = texts(assistant.say(sender, f'/rate{{"score": "5", "handoff_id": "{handoff["id"]}"}}'))
    assert "收到您的 5 分评价，感谢您的认可" in rated
    assert [(r["handoff_id"], r["score"]) for r in ratings_posted(assistant, sender)] == [(handoff["id"], 5)]


def test_a_low_score_from_a_licence_issued_notice_asks_why_then_rates_that_application(
    assistant: Assistant,
) -> None:
    sender = assistant.new_sender()
    done = assistant.backend.issue_licence(sender)
    asked = texts(assistant.say(sender, f'/rate{{"score": "2", "application_code": "{done["code"]}"}}'))
    assert "能说说哪里需要改进吗" in asked and ratings_posted(assistant, sender) == []
    thanked = texts(assistant.say(sender, "审批拖了二十多天"))
    assert "收到您的 2 分评价，很抱歉没能让您满意" in thanked
    posted = ratings_posted(assistant, sender)
    assert [(r["application_code"], r["handoff_id"], r["score"], r["comment"]) for r in posted] == [
        (done["code"], None, 2, "审批拖了二十多天")
    ]


def test_a_rating_button_in_the_middle_of_the_questionnaire(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    done = assistant.backend.issue_licence(sender)
    assert "准备开什么店" in texts(assistant.say(sender, "/start_checklist"))
    replies = texts(assistant.say(sender, f'/rate{{"score": "4", "application_code": "{done["code"]}"}}'))
    assert "收到您的 4 分评价" in replies and "准备开什么店" in replies  # rated, then the question again
    assert [(r["application_code"], r["score"]) for r in ratings_posted(assistant, sender)] == [
        (done["code"], 4)
    ]
    assert "您打算以什么形式开办" in texts(assistant.say(sender, "开饭店"))  # the questionnaire goes on


def stored_events(key: str) -> list[dict]:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=int(REDIS_PORT), db=int(REDIS_DB), decode_responses=True)
    try:
        raw = client.get(key)
    finally:
        client.close()
    assert raw is not None, f"no tracker under {key}: Rasa is not using the Redis tracker store"
    return list(json.loads(raw)["events"])


def age_stored_tracker(key: str, seconds: float) -> None:
    """What waiting `seconds` does to a stored conversation (its events' timestamps move back)."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=int(REDIS_PORT), db=int(REDIS_DB), decode_responses=True)
    try:
        data = json.loads(client.get(key) or "{}")
        for event in data["events"]:
            event["timestamp"] -= seconds
        client.set(key, json.dumps(data), keepttl=True)
    finally:
        client.close()


def test_the_tracker_lives_in_redis_and_keeps_only_the_current_session(assistant: Assistant) -> None:
    """rasa_ext.tracker_store: a returning person's turn must not re-read everything they ever said."""
    sender = assistant.new_sender()
    key = f"zhengzhao:tracker:{sender}"
    assistant.say(sender, "你好")
    assistant.say(sender, "开火锅店要办哪些证")
    before = stored_events(key)
    slots = {e["name"]: e["value"] for e in before if e["event"] == "slot" and e["value"] is not None}
    assert [e["event"] for e in before].count("session_started") == 1

    age_stored_tracker(key, 3 * 3600)  # longer than session_expiration_time (120 min)
    assistant.say(sender, "你好")
    assistant.say(sender, "谢谢")
    after = stored_events(key)
    kinds = [e["event"] for e in after]
    assert kinds.count("session_started") == 1, "the expired session is no longer stored"
    assert [e["text"] for e in after if e["event"] == "user"] == ["你好", "谢谢"]
    carried = {e["name"]: e["value"] for e in after if e["event"] == "slot"}
    assert slots and all(carried.get(name) == value for name, value in slots.items()), (slots, carried)


# --- the tester's conversations ------------------------------------------------------------------------


def photo_message(assistant: Assistant, sender: str, seed: int = 0) -> str:
    """A photo as the gateway forwards it (the file stored first, then its id)."""
    photo = assistant.backend.upload(sender, seed=seed)
    payload = json.dumps({"file_id": photo["file_id"], "content_type": "image/jpeg"}, separators=(",", ":"))
    return f"/upload_material{payload}"


def test_a_material_named_in_words_takes_the_next_photo_and_only_that(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    answers = {**assistant.backend.complete_answers("restaurant"), "premises": "leased", "uses_gas": True}
    code = assistant.backend.application(sender, "restaurant", answers=answers)["code"]
    # "这是燃气合同" once fell back, and the photo after it was filed as the lease.
    assert "请上传【燃气使用安全证明】" in texts(assistant.say(sender, "这是燃气合同"))
    filed = texts(assistant.say(sender, photo_message(assistant, sender)))
    assert f"已作为【燃气使用安全证明】登记到申请 {code}" in filed
    # A name said, then something else: the photo after that goes by the list, not by the old name.
    assert "请上传【房屋租赁合同】" in texts(assistant.say(sender, "下面这张是租赁合同"))
    assert f"申请 {code}" in texts(assistant.say(sender, "办到哪一步了"))
    filed = texts(assistant.say(sender, photo_message(assistant, sender, seed=1)))
    assert "已作为【证照联办综合申请表】登记" in filed
    # The gas contract's photo again, announced as the lease: a warning, not a second filing.
    assistant.say(sender, "这是租赁合同")
    warned = texts(assistant.say(sender, photo_message(assistant, sender)))
    assert "同一份文件，没有再登记为【房屋租赁合同】" in warned
    application = assistant.backend.call("GET", f"/applications/{code}", applicant=sender)
    lease = next(m for m in application["materials"] if m["material_id"] == "lease_contract")
    assert lease["status"] == "missing"


def test_handing_a_material_in_later_or_promising_is_chosen_in_chat(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    answers = assistant.backend.complete_answers("restaurant")
    code = assistant.backend.application(sender, "restaurant", answers=answers)["code"]
    offered = assistant.say(sender, "设施设备清单后面再补可以吗")
    said = texts(offered)
    assert "【食品经营设施设备清单】可以这样办" in said and "前补交" in said and "告知承诺：" in said
    assert "请上传" not in said
    pledge = next(b["payload"] for b in buttons(offered) if b["title"] == "告知承诺")
    assert "按告知承诺办理" in texts(assistant.say(sender, pledge))
    application = assistant.backend.call("GET", f"/applications/{code}", applicant=sender)
    item = next(m for m in application["materials"] if m["material_id"] == "food_equipment_list")
    assert item["status"] == "pledged"


def test_going_on_with_the_questionnaire_is_not_a_cancel(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    assert "以什么形式开办" in texts(assistant.say(sender, "我要开饭店，帮我列下材料"))
    assert "自有房产还是租赁" in texts(assistant.say(sender, "个体户"))
    going_on = texts(assistant.say(sender, "继续刚才的"))
    assert "自有房产还是租赁" in going_on and "停止" not in going_on and "取消" not in going_on
    assistant.say(sender, "算了")
    resumed = texts(assistant.say(sender, "接着办"))
    assert "接着上次的问题继续（已回答 1 题）" in resumed and "自有房产还是租赁" in resumed


def test_everyday_answers_to_the_questionnaire(assistant: Assistant) -> None:
    sender = assistant.new_sender()
    assistant.say(sender, "我要开饭店，帮我列下材料")
    checklist = answer_until_checklist(
        assistant,
        sender,
        {
            **RESTAURANT_REPLIES,
            "从业人员有几人": "厨房三个人加我四个",
            "燃气": "烧煤的",
            "代办": "自己办",
        },
    )
    said = texts(checklist)
    assert "直接接触入口食品的从业人员有几人（含您本人）：4 人" in said
    assert "后厨是否使用燃气（天然气、液化石油气）：否" in said
    assert "是否委托他人或政务服务中心帮办代办人员代为办理：否" in said
