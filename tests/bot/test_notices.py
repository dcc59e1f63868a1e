"""Backend events → notices: the rating prompt after a handoff ends and after a licence is issued, the
departments' decisions."""

import json

import yaml

from bot.backend_client import Event
from bot.messages import Buttons, Image, Text
from bot.notices import NOTICES, RATINGS_FILE
from bot.wechat.rendering import render_messages

CODE = "ZL-20240601-7K3M9Q"


def build(type_: str, payload: dict, code: str | None = CODE):
    event = Event(id="1", type=type_, applicant="wechat:oN", application_code=code, payload=payload)
    return NOTICES[type_](event)


def test_a_handoff_closed_by_staff_says_goodbye_and_asks_for_a_score():
    notice = build("handoff.closed", {"handoff_id": 12, "staff_name": "李帮办", "closed_by": "staff"})
    goodbye, prompt = notice.messages
    assert isinstance(goodbye, Text) and "人工服务已结束" in goodbye.text
    assert isinstance(prompt, Buttons)
    assert [(b.title, b.payload) for b in prompt.buttons] == [
        ("1分 非常不满意", '/rate{"score": "1", "handoff_id": "12"}'),
        ("2分 不满意", '/rate{"score": "2", "handoff_id": "12"}'),
        ("3分 基本满意", '/rate{"score": "3", "handoff_id": "12"}'),
        ("4分 满意", '/rate{"score": "4", "handoff_id": "12"}'),
        ("5分 非常满意", '/rate{"score": "5", "handoff_id": "12"}'),
    ]
    assert notice.fields["status"] == "已结束"


def test_a_handoff_the_person_left_brings_only_the_prompt():
    notice = build("handoff.closed", {"handoff_id": 12, "staff_name": None, "closed_by": "applicant"})
    [prompt] = notice.messages
    assert isinstance(prompt, Buttons) and "人工服务" in prompt.text
    # a template message (outside 48 h) still has something to say
    assert notice.fields["title"] == "人工服务已结束"


def test_a_handoff_nobody_took_is_not_rated():
    left = build("handoff.closed", {"handoff_id": 12, "closed_by": "applicant", "served": False})
    assert left.messages == []
    closed = build("handoff.closed", {"handoff_id": 12, "closed_by": "staff", "served": False})
    assert [type(m) for m in closed.messages] == [Text]


def test_without_a_handoff_id_there_is_nothing_to_rate():
    assert [type(m) for m in build("handoff.closed", {"closed_by": "idle"}).messages] == [Text]
    assert build("handoff.closed", {"closed_by": "applicant"}).messages == []


def test_an_issued_licence_shows_its_card_then_asks_for_a_score():
    notice = build("licence.issued", {"licence_number": "XK-1", "card_url": "/api/v1/licences/XK-1/card.png"})
    text, card, prompt = notice.messages
    assert isinstance(text, Text) and "XK-1" in text.text
    assert card == Image("/api/v1/licences/XK-1/card.png")
    assert isinstance(prompt, Buttons) and "办证" in prompt.text
    payloads = [b.payload for b in prompt.buttons]
    assert payloads[4] == '/rate{"score": "5", "application_code": "ZL-20240601-7K3M9Q"}'
    assert [json.loads(p.removeprefix("/rate")) for p in payloads] == [
        {"score": str(score), "application_code": CODE} for score in range(1, 6)
    ]


def test_an_issued_licence_without_an_application_code_is_not_rated():
    notice = build("licence.issued", {"licence_number": "XK-1"}, code=None)
    assert [type(m) for m in notice.messages] == [Text]


def test_on_wechat_the_number_to_reply_is_the_score():
    prompt = build("licence.issued", {"licence_number": "XK-1"}).messages[-1]
    rendered = render_messages([prompt])
    lines = rendered.parts[0].text.splitlines()  # type: ignore[union-attr]
    assert lines[1:] == [
        f"回复 {n} {n}分 {label}"
        for n, label in enumerate(["非常不满意", "不满意", "基本满意", "满意", "非常满意"], 1)
    ]
    assert {n: json.loads(p.removeprefix("/rate"))["score"] for n, p in rendered.menu.items()} == {
        n: str(n) for n in range(1, 6)
    }


def test_the_score_names_are_the_shared_ones():
    # config/ratings.yaml is also what the assistant's buttons and the staff console read.
    names = yaml.safe_load(RATINGS_FILE.read_text(encoding="utf-8"))["scores"]
    prompt = build("licence.issued", {"licence_number": "XK-1"}).messages[-1]
    assert isinstance(prompt, Buttons)
    assert [b.title for b in prompt.buttons] == [f"{n}分 {names[n]}" for n in range(1, 6)]


def decided(**payload):
    base = {"department_name": "市场监督管理局", "task_id": 7, "licence_name": "食品经营许可证"}
    return build("task.decided", {**base, **payload})


def test_each_decision_names_its_permit():
    licence = decided(decision="approve", status="approved", status_label="已批准")
    registration = decided(
        decision="approve", status="approved", status_label="已批准", licence_name="营业执照"
    )
    text = licence.messages[0].text  # type: ignore[union-attr]
    assert text.splitlines()[0] == "【市场监督管理局】食品经营许可证：已批准"
    assert registration.messages[0].text.splitlines()[0] == "【市场监督管理局】营业执照：已批准"  # type: ignore[union-attr]
    # a template message (outside 48 h) says which permit too
    assert licence.fields["title"] == "食品经营许可证已批准"
    assert licence.fields["department"] == "市场监督管理局"


def test_an_inspection_notice_gives_the_date_and_weekday():
    notice = decided(
        decision="schedule_inspection",
        status="inspection_scheduled",
        status_label="待现场核查",
        inspection_date="2026-12-05",
        reason="周六上午到店核查后厨",
    )
    lines = notice.messages[0].text.splitlines()  # type: ignore[union-attr]
    assert lines[0] == "【市场监督管理局】食品经营许可证：待现场核查"
    assert "12月5日（周六）" in lines[1]
    assert lines[2] == "说明：周六上午到店核查后厨"
    assert notice.fields["detail"] == "12月5日（周六）现场核查"


def test_a_decision_without_a_permit_name_still_reads():
    notice = build("task.decided", {"department_name": "卫生健康委员会", "status_label": "已批准"})
    assert notice.messages[0].text.startswith("【卫生健康委员会】已批准")  # type: ignore[union-attr]


def test_a_correction_notice_carries_the_notice_picture():
    problems = [{"material_name": "营业场所平面图", "problem": "缺少面积标注"}]
    notice = build(
        "application.correction_required", {"problems": problems, "notice_url": "/n/abc.def/notice.png"}
    )
    text, picture = notice.messages
    assert isinstance(text, Text) and "营业场所平面图：缺少面积标注" in text.text
    assert picture == Image("/n/abc.def/notice.png")


REJECTED = {
    "licence_name": "公共场所卫生许可证",
    "department_name": "卫生健康委员会",
    "reason": "放映厅通风不达标",
    "package_name": "影剧院",
    "closed": [{"task_id": 9, "licence_name": "消防安全检查", "department_name": "消防救援大队"}],
    "approved": [{"task_id": 7, "licence_name": "营业执照", "department_name": "市场监督管理局"}],
}


def test_a_refusal_says_what_was_refused_why_what_ended_and_what_to_do_next():
    notice = build("application.rejected", REJECTED)
    text, next_step = notice.messages
    assert isinstance(text, Text) and isinstance(next_step, Buttons)
    assert text.text.splitlines() == [
        f"很抱歉，您的申请 {CODE}（影剧院）未获许可。",
        "【卫生健康委员会】公共场所卫生许可证：不予许可",
        "理由：放映厅通风不达标",
        "同一申请中的消防安全检查已随之终止办理。",
    ]
    assert "按上面的理由整改" in next_step.text and "回复“重新申请”" in next_step.text
    assert "原来的信息和材料" in next_step.text
    assert [(b.title, b.payload) for b in next_step.buttons] == [
        ("重新申请", "/reapply"),
        ("转人工", "/request_human"),
    ]
    # a template message (outside 48 h): every value within WeChat's 20 characters
    assert notice.fields["status"] == "不予许可" and notice.fields["department"] == "卫生健康委员会"
    assert notice.fields["detail"].startswith("公共场所卫生许可证：")
    assert all(len(value) <= 20 for value in notice.fields.values())


def test_on_wechat_a_refusal_is_one_message_with_numbered_next_steps():
    rendered = render_messages(build("application.rejected", REJECTED).messages)
    [part] = rendered.parts
    assert part.text.endswith("回复 1 重新申请\n回复 2 转人工")  # type: ignore[union-attr]
    assert len(part.text.encode()) <= 2048  # type: ignore[union-attr]
    assert rendered.menu == {1: "/reapply", 2: "/request_human"}


def test_an_early_refusal_event_without_details_still_offers_the_next_step():
    text, next_step = build("application.rejected", {}).messages
    assert text.text == f"很抱歉，您的申请 {CODE}未获许可。"  # type: ignore[union-attr]
    assert "按审批部门的意见整改" in next_step.text  # type: ignore[union-attr]


def test_the_refusing_decision_leaves_the_telling_to_the_refusal_notice():
    refused = decided(
        decision="reject", status="rejected", status_label="不予许可", application_status="rejected"
    )
    assert refused.messages == []
    approved = decided(
        decision="approve", status="approved", status_label="已批准", application_status="in_review"
    )
    assert len(approved.messages) == 1
