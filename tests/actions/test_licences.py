"""The comprehensive licence: 亮证 (card picture, QR code, verification link), change and cancellation."""

from actions.applications import ActionSubmitApplication
from actions.licences import (
    ActionAskCancelLicence,
    ActionShowLicence,
    ActionStartCancel,
    ActionStartChange,
    ValidateChangeForm,
)
from tests.actions.conftest import form_state, run_action, tracker_state, user_event


async def test_no_licence_yet(api, applicant, domain):
    ran = await run_action(ActionShowLicence(), tracker_state(applicant, "亮证", "show_licence"), domain)
    assert "还没有已核发的行业综合许可证" in ran.text


async def test_a_question_read_as_showing_the_licence_gets_the_documents_answer_first(api, applicant, domain):
    # No licence yet: 综合许可证上的二维码能扫出啥 asks what the QR code does.
    state = tracker_state(applicant, "综合许可证上的二维码扫了能看到啥", "show_licence")
    ran = await run_action(ActionShowLicence(), state, domain)
    assert len(ran.texts) == 2
    assert "二维码" in ran.texts[0] and "\n出处：" in ran.texts[0]
    assert "还没有已核发的行业综合许可证" in ran.texts[1]


async def test_a_question_about_changing_or_cancelling_without_a_licence_gets_the_policy(
    api, applicant, domain
):
    # Mostly someone asking how it works, before they have a licence: the documents' answer, then where
    # they stand, instead of only "nothing to change".
    state = form_state(
        applicant,
        "股东变了要去变更吗",
        "change_licence",
        form="change_form",
        requested=None,
        candidates={},
    )
    state["slots"]["requested_slot"] = None
    ran = await run_action(ValidateChangeForm(), state, domain)
    assert "出处：" in ran.texts[0]
    assert ran.texts[-1].startswith("您名下目前还没有有效的行业综合许可证") and "变更" in ran.texts[-1]
    assert ran.slots["requested_slot"] is None

    # cancel_licence is answered by action_ask_cancel_licence (nlu_data/rules/lifecycle.yml): it used to
    # ask "确定要申请注销吗？" of someone without a licence.
    ran = await run_action(
        ActionAskCancelLicence(),
        tracker_state(applicant, "公司不开了要跑哪些地方注销", "cancel_licence"),
        domain,
    )
    assert "出处：" in ran.texts[0] and "注销" in ran.texts[-1]
    assert ran.responses() == []

    # Said, not asked: only where they stand.
    ran = await run_action(
        ActionAskCancelLicence(), tracker_state(applicant, "注销许可证", "cancel_licence"), domain
    )
    assert ran.texts == [
        "您名下目前还没有有效的行业综合许可证，暂时无法办理注销。如果是开店办证，回复“我要申请”；如有疑问可以回复“转人工”。"
    ]


async def test_an_ok_to_the_no_licence_reply_is_not_answered_with_it_again(api, applicant, domain):
    asked = await run_action(
        ActionAskCancelLicence(),
        tracker_state(applicant, "公司不开了要跑哪些地方注销", "cancel_licence"),
        domain,
    )
    # The confirmation rule sends the next "好的" to action_start_cancel.
    turn = [
        user_event("公司不开了要跑哪些地方注销", "cancel_licence"),
        {"event": "action", "name": "action_ask_cancel_licence"},
        *({"event": "bot", "text": said} for said in asked.texts),
    ]
    ran = await run_action(
        ActionStartCancel(), tracker_state(applicant, "好的", "affirm", events=turn), domain
    )
    assert ran.texts == ["好的。还有其他问题，随时问我。"]


async def test_cancelling_a_licence_is_confirmed_first(api, applicant, domain):
    api.issue_licence(applicant)
    ran = await run_action(
        ActionAskCancelLicence(), tracker_state(applicant, "我要注销", "cancel_licence"), domain
    )
    assert ran.responses() == ["utter_confirm_cancel_licence"]
    assert ran.texts == []


async def test_the_licence_card_with_its_qr_code_and_verification_link(api, applicant, domain):
    done = api.issue_licence(applicant)
    ran = await run_action(
        ActionShowLicence(), tracker_state(applicant, "看看我的许可证", "show_licence"), domain
    )
    text, image = ran.messages[0]["text"], ran.messages[1]["image"]
    assert f"行业综合许可证 {done['licence_number']}" in text
    assert "经营者：书香小屋｜法定代表人：李四" in text and "营业执照" in text
    assert f"核验链接：{api.url}/" in text  # the backend's PUBLIC_BASE_URL, signed
    # The card picture is public under the QR token, so the gateway can fetch it without credentials.
    assert image.startswith("https://zwfw.example.gov.cn/") and image.endswith("/card.png")


async def test_change_without_a_licence_ends_the_form_at_once(api, applicant, domain):
    state = form_state(
        applicant,
        "我要变更地址",
        "change_licence",
        form="change_form",
        requested=None,
        candidates={"change_item": "address"},
        entities={"change_item": "address"},
    )
    state["slots"]["requested_slot"] = None
    ran = await run_action(ValidateChangeForm(), state, domain)
    assert "还没有有效的行业综合许可证" in ran.text
    assert ran.slots["requested_slot"] is None
    # action_start_change then stays silent: no new value was given.
    silent = await run_action(
        ActionStartChange(), tracker_state(applicant, slots={"change_item": "address"}), domain
    )
    assert silent.messages == []


async def test_business_scope_changes_go_to_a_person(api, applicant, domain):
    state = form_state(
        applicant,
        "变更经营范围",
        "change_licence",
        form="change_form",
        requested="change_item",
        candidates={"change_item": "scope"},
    )
    ran = await run_action(ValidateChangeForm(), state, domain)
    assert ran.slots == {"change_item": None}
    assert "转人工" in ran.text


async def test_a_change_of_address_becomes_a_change_application(api, applicant, domain):
    done = api.issue_licence(applicant)
    slots = {"change_item": "address", "change_value": "兰山区金雀山路5号"}
    ran = await run_action(ActionStartChange(), tracker_state(applicant, slots=slots), domain)
    code = ran.slots["application_code"]
    assert f"已为许可证 {done['licence_number']} 创建变更申请 {code}" in ran.text
    assert "请上传【变更登记（备案）申请书】" in ran.text
    change = api.call("GET", f"/applications/{code}", applicant=applicant)
    assert change["operation"] == "change" and change["changes"] == {"address": "兰山区金雀山路5号"}
    assert ran.slots["change_item"] is None and ran.slots["change_value"] is None

    # Before submitting, the confirmation says what changes (the applicant data is still the old one).
    api.provide(applicant, change, key_only=True)
    submit = tracker_state(applicant, "提交", "submit_application", slots={"application_code": code})
    ran = await run_action(ActionSubmitApplication(), submit, domain)
    assert "变更内容：经营地址改为“兰山区金雀山路5号”" in ran.text and "确认提交吗？" in ran.text


async def test_cancellation_after_confirmation(api, applicant, domain):
    done = api.issue_licence(applicant)
    ran = await run_action(ActionStartCancel(), tracker_state(applicant, "确定注销", "affirm"), domain)
    assert f"已为许可证 {done['licence_number']}（书香小屋）创建注销申请" in ran.text
    assert "注销申请书" in ran.text
    assert ran.slots["operation"] == "cancel"


async def test_several_licences_are_asked_about(api, applicant, domain):
    first = api.issue_licence(applicant)
    second = api.issue_licence(applicant, "library")
    ran = await run_action(ActionStartCancel(), tracker_state(applicant, "确定注销", "affirm"), domain)
    assert "您有 2 张许可证，要注销哪一张" in ran.text
    payloads = {b["payload"] for b in ran.buttons}
    assert f'/cancel_licence{{"licence_number": "{first["licence_number"]}"}}' in payloads
    chosen = tracker_state(
        applicant, "确定注销", "affirm", slots={"licence_number": second["licence_number"]}
    )
    ran = await run_action(ActionStartCancel(), chosen, domain)
    assert f"已为许可证 {second['licence_number']}" in ran.text


async def test_the_new_value_is_kept_without_the_words_around_it(api, applicant, domain):
    # "新地址是兰山区解放路100号" once reached the licence and its QR page as it was typed.
    state = form_state(
        applicant,
        "新地址是兰山区解放路100号",
        "inform",
        form="change_form",
        requested="change_value",
        candidates={"change_value": "新地址是兰山区解放路100号"},
        slots={"change_item": "address"},
    )
    ran = await run_action(ValidateChangeForm(), state, domain)
    assert ran.slots["change_value"] == "兰山区解放路100号"
