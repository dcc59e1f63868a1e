"""Backend events → notices: the rating prompt after a handoff ends and after a licence is issued."""

import json

from bot.backend_client import Event
from bot.messages import Buttons, Image, Text
from bot.notices import NOTICES
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
        ("1分 很不满意", '/rate{"score": "1", "handoff_id": "12"}'),
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
        for n, label in enumerate(["很不满意", "不满意", "基本满意", "满意", "非常满意"], 1)
    ]
    assert [json.loads(p.removeprefix("/rate"))["score"] for p in rendered.menu] == ["1", "2", "3", "4", "5"]


def test_a_correction_notice_carries_the_notice_picture():
    problems = [{"material_name": "营业场所平面图", "problem": "缺少面积标注"}]
    notice = build(
        "application.correction_required", {"problems": problems, "notice_url": "/n/abc.def/notice.png"}
    )
    text, picture = notice.messages
    assert isinstance(text, Text) and "营业场所平面图：缺少面积标注" in text.text
    assert picture == Image("/n/abc.def/notice.png")
