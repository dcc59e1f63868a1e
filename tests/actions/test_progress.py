"""What the assistant says about an application's course: who starts at once after submitting, and the
day of an inspection in the progress lines."""

from datetime import date, timedelta

from actions.applications import ActionShowProgress, ActionSubmitApplication
from tests.actions.conftest import run_action, tracker_state


async def test_submitting_says_the_permits_wait_for_the_registration(api, applicant, domain):
    # A restaurant: the business licence is registered first, the food permit waits for it.
    created = api.application(applicant, "restaurant", answers=api.complete_answers("restaurant"))
    code = created["code"]
    api.provide(applicant, created)
    slots = {"application_code": code, "confirming": "submit"}
    ran = await run_action(
        ActionSubmitApplication(), tracker_state(applicant, "确认", "affirm", slots=slots), domain
    )
    assert f"提交成功！申请 {code} 已受理，营业执照登记完成后，其他部门再同步审批，" in ran.text
    assert "各部门同步审批" not in ran.text


async def test_the_inspection_in_the_progress_line_has_its_weekday(api, applicant, domain):
    accepted = api.accepted_application(applicant, "cinema")
    token = api.staff_token()
    registration = next(t for t in accepted["tasks"] if t["status"] == "pending")
    api.decide(registration["id"], {"decision": "approve"}, token)
    task = next(t for t in accepted["tasks"] if t["id"] != registration["id"])
    saturday = date.today() + timedelta(days=7 + (5 - date.today().weekday()) % 7)
    decision = {"decision": "schedule_inspection", "inspection_date": saturday.isoformat()}
    api.decide(task["id"], decision, token)
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "办到哪一步了", "ask_progress"), domain
    )
    line = next(line for line in ran.text.splitlines() if task["licence_name"] in line and "核查" in line)
    assert f"现场核查安排在 {saturday.month}月{saturday.day}日（周六）" in line
