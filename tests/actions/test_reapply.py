"""重新申请 after a refusal (不予许可): a new draft from the refused application with what to put right, and
the answers when there is nothing refused to reapply for; submitting or asking about a refused application
points to it."""

from actions.applications import ActionReapply, ActionShowProgress, ActionSubmitApplication
from tests.actions.conftest import run_action, tracker_state

REASON = "经营场所为住宅，不符合要求"


def said(applicant: str, text: str = "整改好了能重新申请吗", intent: str = "reapply", **kwargs):
    return tracker_state(applicant, text, intent, **kwargs)


async def test_reapplying_makes_one_draft_and_says_what_to_put_right(api, applicant, domain):
    refused = api.refuse(applicant, api.accepted_application(applicant), REASON)
    old = refused["code"]

    ran = await run_action(ActionReapply(), said(applicant), domain)
    code = ran.slots["application_code"]
    assert code != old and ran.slots["operation"] == "open"
    new = api.call("GET", f"/applications/{code}", applicant=applicant)
    assert (new["status"], new["previous_code"]) == ("draft", old)
    carried = len(refused["materials"])
    assert f"已为您重新申请，新的统一编码：{code}（原申请 {old} 不予许可）" in ran.text
    assert f"已提交的 {carried} 份材料都已带过来" in ran.text
    assert f"【市场监督管理局】营业执照：不予许可，理由：{REASON}" in ran.text
    assert "回复“提交申请”" in ran.text and "还需要补充" not in ran.text
    assert {"title": "提交申请", "payload": "/submit_application"} in ran.buttons

    # Asked again: the same draft, said so.
    again = await run_action(ActionReapply(), said(applicant, "重新申请"), domain)
    assert again.slots["application_code"] == code
    assert f"您已经为申请 {old} 新建过一份申请，统一编码 {code}" in again.text
    codes = [a["code"] for a in api.call("GET", "/applications", applicant=applicant)["applications"]]
    assert sorted(codes) == sorted([old, code])

    # Once the new one is submitted, it is its progress that matters.
    api.call("POST", f"/applications/{code}/submit", applicant=applicant)
    done = await run_action(ActionReapply(), said(applicant, "重新申请"), domain)
    assert f"新申请 {code} 当前为“已受理”" in done.text
    assert [b["payload"] for b in done.buttons] == ["/ask_progress"]


async def test_what_was_promised_for_later_is_still_to_supply(api, applicant, domain):
    created = api.application(applicant, answers=api.complete_answers("bookstore"))
    api.provide(applicant, created, key_only=True)
    later = [m for m in created["materials"] if not m["key"]]
    assert later
    for material in later:
        api.call(
            "POST",
            f"/applications/{created['code']}/commitments",
            {"material_id": material["material_id"], "kind": "later"},
            applicant=applicant,
        )
    accepted = api.call("POST", f"/applications/{created['code']}/submit", applicant=applicant)
    api.refuse(applicant, accepted, REASON)

    ran = await run_action(ActionReapply(), said(applicant), domain)
    assert f"还需要补充 {len(later)} 份材料" in ran.text
    assert all(f"· {m['name']}（非关键，可容缺后补）：未提交" in ran.text for m in later)
    assert "可以容缺后补，提交时确认即可" in ran.text


async def test_without_a_refused_application_it_says_what_reapplying_is_for(api, applicant, domain):
    nothing = await run_action(ActionReapply(), said(applicant), domain)
    assert "重新申请适用于审批结果为“不予许可”的申请" in nothing.text and "还没有申请记录" in nothing.text
    assert [b["payload"] for b in nothing.buttons] == ["/start_checklist", "/start_application"]
    assert nothing.slots == {}

    accepted = api.accepted_application(applicant)
    listed = await run_action(ActionReapply(), said(applicant), domain)
    assert f"· 书店·开办 {accepted['code']}：已受理" in listed.text
    assert [b["payload"] for b in listed.buttons] == ["/ask_progress"]
    assert len(api.call("GET", "/applications", applicant=applicant)["applications"]) == 1


async def test_a_correction_request_is_answered_with_the_same_application(api, applicant, domain):
    accepted = api.accepted_application(applicant)
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    material = accepted["materials"][0]
    api.decide(
        task["id"],
        {
            "decision": "request_correction",
            "problems": [{"material_id": material["material_id"], "problem": "照片模糊"}],
        },
    )
    ran = await run_action(ActionReapply(), said(applicant, "我想重新提交一次"), domain)
    assert f"申请 {accepted['code']} 只是需要补正，不用重新申请" in ran.text
    assert ran.slots == {"application_code": accepted["code"]}
    assert len(api.call("GET", "/applications", applicant=applicant)["applications"]) == 1


async def test_submitting_or_asking_about_a_refused_application_points_to_reapplying(api, applicant, domain):
    refused = api.refuse(applicant, api.accepted_application(applicant), REASON)
    submit = await run_action(
        ActionSubmitApplication(), said(applicant, "再提交一次", "submit_application"), domain
    )
    assert f"申请 {refused['code']} 的审批结果是“不予许可”，不能再次提交" in submit.text
    assert "回复“重新申请”" in submit.text and submit.buttons[0]["payload"] == "/reapply"

    progress = await run_action(ActionShowProgress(), said(applicant, "办到哪一步了", "ask_progress"), domain)
    assert "当前状态：不予许可" in progress.text
    assert f"原因：{REASON}" in progress.text and "终止办理" in progress.text
    assert "回复“重新申请”" in progress.text
    assert [b["payload"] for b in progress.buttons] == ["/reapply", "/request_human"]
