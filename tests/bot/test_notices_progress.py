"""Notices about an application's course: accepted (who starts now), and a 容缺 deadline that has passed."""

from bot.backend_client import Event
from bot.messages import Text
from bot.notices import NOTICES

CODE = "ZL-20240601-7K3M9Q"


def build(type_: str, payload: dict):
    event = Event(id="1", type=type_, applicant="wechat:oN", application_code=CODE, payload=payload)
    return NOTICES[type_](event)


def test_accepted_says_who_waits_for_the_registration():
    tasks = [
        {"licence_name": "营业执照", "status": "pending"},
        {"licence_name": "食品经营许可证", "status": "waiting"},
    ]
    [text] = build("application.accepted", {"promised_days": 3, "tasks": tasks}).messages
    assert isinstance(text, Text)
    assert text.text.startswith("您的申请已受理，营业执照登记完成后，其他部门再同步审批。")
    assert "同步审批" in text.text and "各部门将同步审批" not in text.text

    parallel = [{"licence_name": "营业执照", "status": "pending"}, {"licence_name": "x", "status": "pending"}]
    [text] = build("application.accepted", {"tasks": parallel}).messages
    assert isinstance(text, Text) and text.text.startswith("您的申请已受理，各部门将同步审批。")


def test_an_overdue_promise_is_a_polite_notice_with_what_to_do_now():
    payload = {
        "material_id": "health_certificates",
        "material_name": "从业人员健康证明",
        "due_date": "2026-12-05",
    }
    notice = build("commitment.overdue", payload)
    [text] = notice.messages
    assert isinstance(text, Text)
    first, how, staff, code = text.text.splitlines()
    assert "“从业人员健康证明”补交期限已于 12月5日（周六） 到期" in first and "还没有收到" in first
    assert "发送材料的照片或扫描件" in how and "这是从业人员健康证明" in how
    assert "工作人员" in staff and "人工服务" in staff
    assert code == f"统一编码：{CODE}"
    # WeChat template keywords: ≤ 20 characters each
    assert notice.fields["title"] == "容缺材料补交已逾期"
    assert notice.fields["detail"] == "从业人员健康证明已逾期"
    assert all(len(v) <= 20 for v in notice.fields.values())
