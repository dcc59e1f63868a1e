"""Applications: the applicant data form, creating the draft, uploads, what is missing, submitting with
confirmation, progress per department."""

import re
from datetime import date

import pytest

from actions.applications import (
    ActionAttachMaterial,
    ActionCommitMaterial,
    ActionShowMissingMaterials,
    ActionShowProgress,
    ActionStartApplication,
    ActionSubmitApplication,
    ValidateApplicationForm,
)
from actions.checklist import ActionApplyCorrection
from tests.actions.conftest import form_state, run_action, tracker_state, user_event
from tests.actions.test_checklist import fetch_picture, images, notice_subject

FORM = "application_form"
LOCATION = '/share_location{"latitude":35.1,"longitude":118.3,"label":"临沂市兰山区通达路88号"}'
INFO = {
    "operator_name": "老王火锅",
    "legal_representative": "王五",
    "address": "兰山区通达路88号",
    "phone": "13912345678",
}


async def test_applicant_data_is_cleaned_of_what_people_say_around_it(api, applicant, domain):
    for slot, said, kept in [
        ("operator_name", "店名叫老王火锅", "老王火锅"),
        ("legal_representative", "法人是李四", "李四"),
        ("address", "地址在兰山区通达路88号", "兰山区通达路88号"),
        ("address", LOCATION, "临沂市兰山区通达路88号"),
        ("phone", "我的电话 139 1234 5678", "13912345678"),
    ]:
        state = form_state(
            applicant,
            said,
            "inform",
            form=FORM,
            requested=slot,
            candidates={slot: said},
            slots={"industry": "restaurant"},
        )
        ran = await run_action(ValidateApplicationForm(), state, domain)
        assert ran.slots[slot] == kept, said
        assert ran.messages == []


async def test_a_wrong_phone_number_is_asked_again(api, applicant, domain):
    state = form_state(
        applicant,
        "1391234",
        "inform",
        form=FORM,
        requested="phone",
        candidates={"phone": "1391234"},
        slots={"industry": "restaurant"},
    )
    ran = await run_action(ValidateApplicationForm(), state, domain)
    assert ran.slots == {"phone": None}
    assert ran.responses() == ["utter_invalid_phone"]


async def test_the_draft_is_created_with_the_questionnaire_answers(api, applicant, domain):
    slots = {
        "industry": "restaurant",
        "checklist_answers": {"package_id": "restaurant", "answers": {"area": 120}},
        **INFO,
    }
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    code = ran.slots["application_code"]
    assert code.startswith("ZL-") and f"统一编码：{code}" in ran.texts[0]
    assert "请上传【证照联办综合申请表】" in ran.text
    # The example names a material of this list (it once said 租赁合同 where none was asked for).
    example = re.search(r"（如“这是(.+?)”）", ran.text)
    assert example and f"· {example.group(1)}" in ran.text
    assert "还有 8 个情况没回答" in ran.text
    assert all(ran.slots[slot] is None for slot in INFO)
    created = api.call("GET", f"/applications/{code}", applicant=applicant)
    assert created["answers"]["area"] == 120 and created["applicant"]["operator_name"] == "老王火锅"
    # Asking again reuses the draft instead of making a second one.
    again = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    assert again.slots["application_code"] == code and "申请草稿" in again.texts[0]


async def test_an_unknown_industry_word_in_a_shop_name_keeps_the_industry(api, applicant, domain):
    # NLU tagged 书香 in "书香小屋" as an industry the catalog lacks; the form then asked for the industry
    # again at every answer.
    state = form_state(
        applicant,
        "书香小屋",
        "inform",
        form=FORM,
        requested="operator_name",
        candidates={"operator_name": "书香小屋", "industry": "书香"},
        entities={"industry": "书香"},
        events=[{"event": "slot", "name": "industry", "value": "bookstore"}],
    )
    ran = await run_action(ValidateApplicationForm(), state, domain)
    assert ran.slots["industry"] == "bookstore" and ran.slots["operator_name"] == "书香小屋"
    assert "对应到联办的行业" not in ran.text


async def test_a_photo_sent_before_the_application_is_filed_when_it_is_created(api, applicant, domain):
    photo = api.upload(applicant)
    state = tracker_state(
        applicant, "/upload_material", "upload_material", entities={"file_id": photo["file_id"]}
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert "您还没有创建申请" in ran.text and ran.slots["file_id"] == photo["file_id"]
    slots = {"industry": "bookstore", **INFO, "file_id": photo["file_id"], "material_hint": "身份证"}
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    assert "您之前发来的文件已登记为【法定代表人（负责人、经营者）身份证件】" in ran.text
    created = api.call("GET", f"/applications/{ran.slots['application_code']}", applicant=applicant)
    assert {m["material_id"]: m["file_ids"] for m in created["materials"]}["applicant_id"] == [
        photo["file_id"]
    ]


async def test_a_question_read_as_sending_a_material_gets_the_documents_answer(api, applicant, domain):
    said = "旅行社业务经营许可证是旅游局发还是市场监管发"
    ran = await run_action(ActionAttachMaterial(), tracker_state(applicant, said, "upload_material"), domain)
    assert len(ran.texts) == 2
    assert "旅行社" in ran.texts[0] and "\n出处：" in ran.texts[0]
    assert ran.texts[1].startswith("如需上传材料，要先创建申请")
    assert not ran.slots.get("material_hint")
    # Words that only say what they are sending get the usual reply.
    ran = await run_action(
        ActionAttachMaterial(), tracker_state(applicant, "我要上传材料", "upload_material"), domain
    )
    assert "出处：" not in ran.text and "上传材料前需要先创建申请" in ran.text


async def test_a_message_about_materials_while_the_application_is_reviewed_says_none_are_needed(
    api, applicant, domain
):
    code = api.accepted_application(applicant)["code"]
    state = tracker_state(applicant, "我要上传材料", "upload_material")
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert f"您的申请 {code} 当前为" in ran.text and "暂时不需要上传材料" in ran.text
    assert "需要先创建申请" not in ran.text


async def test_a_photo_announced_before_the_application_is_filed_as_announced(api, applicant, domain):
    # "这是营业场所租赁合同", a photo, then "我要申请": the name was lost on the way (every message but an
    # upload empties material_hint) and the photo was filed as the first item of the list instead.
    said = "这是营业场所租赁合同"
    ran = await run_action(
        ActionAttachMaterial(),
        tracker_state(applicant, said, "upload_material", entities={"material_hint": "营业场所租赁合同"}),
        domain,
    )
    assert "上传材料前需要先创建申请" in ran.text
    slots = dict(ran.slots)
    photo = api.upload(applicant)["file_id"]
    state = tracker_state(
        applicant, "/upload_material", "upload_material", entities={"file_id": photo}, slots=slots
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert "收到您发来的“营业场所租赁合同”了。您还没有创建申请" in ran.text
    slots.update(ran.slots)
    assert slots["file_material"] == {"file_id": photo, "material": "营业场所租赁合同"}
    # "我要申请" and the form's answers: Rasa's mapping empties material_hint at each of them.
    answers = {**api.complete_answers("restaurant"), "premises": "leased"}
    slots.update(
        {
            "material_hint": "",
            "industry": "restaurant",
            "checklist_answers": {"package_id": "restaurant", "answers": answers},
            **INFO,
        }
    )
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    assert "您之前发来的文件已登记为【房屋租赁合同】。" in ran.text
    assert "请问它是哪一份材料" not in ran.text
    assert ran.slots["file_id"] is None and ran.slots["file_material"] is None
    created = api.call("GET", f"/applications/{ran.slots['application_code']}", applicant=applicant)
    filed = {m["material_id"]: m["file_ids"] for m in created["materials"] if m["file_ids"]}
    assert filed == {"lease_contract": [photo]}


async def test_a_photo_announced_as_nothing_the_application_needs_is_asked_about(api, applicant, domain):
    photo = api.upload(applicant)["file_id"]
    state = tracker_state(
        applicant,
        "/upload_material",
        "upload_material",
        entities={"file_id": photo},
        slots={"material_hint": "门头照"},
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    slots = {**ran.slots, "material_hint": "", "industry": "bookstore", **INFO}
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    assert "您之前发来的文件（您说是“门头照”）在这份申请的材料清单里没有对应的一项" in ran.texts[-1]
    payload = f'/upload_material{{"file_id": "{photo}", "material_hint": "applicant_id"}}'
    assert {"title": "法定代表人（负责人、经营者）身份证件", "payload": payload} in ran.buttons
    assert "已登记为" not in ran.text
    created = api.call("GET", f"/applications/{ran.slots['application_code']}", applicant=applicant)
    assert not any(m["file_ids"] for m in created["materials"])
    # A name said of another photo does not go with this one.
    other = api.upload(applicant, seed=2)["file_id"]
    slots = {
        **INFO,
        "industry": "bookstore",
        "file_id": other,
        "file_material": {"file_id": photo, "material": "身份证"},
    }
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    assert "您之前发来的文件已登记为【证照联办综合申请表】" in ran.text


async def test_an_unnamed_photo_goes_to_the_next_missing_item(api, applicant, domain):
    code = api.application(applicant)["code"]
    photo = api.upload(applicant)
    state = tracker_state(
        applicant,
        f'/upload_material{{"file_id":"{photo["file_id"]}"}}',
        "upload_material",
        entities={"file_id": photo["file_id"]},
        slots={"application_code": code},
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert ran.texts[0].startswith(f"已收到，已作为【证照联办综合申请表】登记到申请 {code}。")
    assert "下一份请上传【法定代表人（负责人、经营者）身份证件】" in ran.text
    assert ran.slots == {
        "file_id": None,
        "material_hint": None,
        "application_code": code,
        "filed_file": {
            "application_code": code,
            "material_id": "joint_application_form",
            "file_id": photo["file_id"],
        },
    }


async def test_a_named_photo_goes_to_the_item_named(api, applicant, domain):
    code = api.application(applicant)["code"]
    photo = api.upload(applicant)
    state = tracker_state(
        applicant,
        "/upload_material",
        "upload_material",
        entities={"file_id": photo["file_id"]},
        slots={"application_code": code, "material_hint": "租赁合同"},
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert "已作为【经营场所使用证明】登记" in ran.text
    items = {
        m["material_id"]: m
        for m in api.call("GET", f"/applications/{code}", applicant=applicant)["materials"]
    }
    assert items["premises_proof"]["status"] == "provided"


async def test_an_unclear_name_is_asked_with_buttons(api, applicant, domain):
    code = api.application(applicant)["code"]
    photo = api.upload(applicant)
    state = tracker_state(
        applicant,
        "/upload_material",
        "upload_material",
        entities={"file_id": photo["file_id"]},
        slots={"application_code": code, "material_hint": "门头照"},
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert "请问这是哪一份材料" in ran.text
    payload = f'/upload_material{{"file_id": "{photo["file_id"]}", "material_hint": "applicant_id"}}'
    assert {"title": "法定代表人（负责人、经营者）身份证件", "payload": payload} in ran.buttons
    assert ran.slots["file_id"] is None


async def test_saying_what_comes_next_waits_for_the_photo(api, applicant, domain):
    code = api.application(applicant)["code"]
    state = tracker_state(
        applicant,
        "我要上传身份证",
        "upload_material",
        entities={"material_hint": "身份证"},
        slots={"application_code": code},
    )
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert "请上传【法定代表人（负责人、经营者）身份证件】" in ran.text
    assert ran.slots["material_hint"] == "applicant_id"


async def test_what_is_missing_lists_every_item_with_its_status(api, applicant, domain):
    created = api.application(applicant)
    api.call(
        "POST",
        f"/applications/{created['code']}/materials",
        {"material_id": "applicant_id"},
        applicant=applicant,
    )
    ran = await run_action(
        ActionShowMissingMaterials(),
        tracker_state(applicant, "还缺什么材料", "ask_missing_materials"),
        domain,
    )
    assert "· 法定代表人（负责人、经营者）身份证件：已提交" in ran.text
    assert "· 证照联办综合申请表：未提交" in ran.text
    [picture] = images(ran)
    assert picture.startswith("https://zwfw.example.gov.cn/n/")
    assert notice_subject(picture)[:2] == ["application", created["code"]]


async def test_what_is_missing_before_any_application(api, applicant, domain):
    state = tracker_state(applicant, "要准备什么", "ask_missing_materials", slots={"industry": "pharmacy"})
    ran = await run_action(ActionShowMissingMaterials(), state, domain)
    assert "您还没有创建申请" in ran.text and "药" in ran.text


async def test_submit_waits_for_key_materials(api, applicant, domain):
    code = api.application(applicant, answers=api.complete_answers("bookstore"))["code"]
    ran = await run_action(
        ActionSubmitApplication(), tracker_state(applicant, "提交申请", "submit_application"), domain
    )
    assert f"申请 {code} 还缺少关键材料" in ran.text
    assert ran.slots["confirming"] is None


@pytest.mark.parametrize("confirmation", [("/affirm", "affirm"), ("确认提交", "submit_application")])
async def test_submit_asks_for_confirmation_then_submits_with_commitments(
    api, applicant, domain, confirmation
):
    created = api.application(applicant, "restaurant", answers=api.complete_answers("restaurant"))
    code = created["code"]
    api.provide(applicant, created, key_only=True)
    ran = await run_action(
        ActionSubmitApplication(), tracker_state(applicant, "提交", "submit_application"), domain
    )
    assert "确认提交吗？" in ran.text and "容缺后补" in ran.text
    assert "名称：" in ran.text and "法定代表人：" in ran.text and "经营者：" not in ran.text
    assert ran.buttons == [
        {"title": "确认提交", "payload": "/affirm"},
        {"title": "暂不提交", "payload": "/deny"},
    ]
    assert ran.slots == {"application_code": code, "confirming": "submit"}
    # Typing the button's label is a submit request; after the question it is the yes.
    state = tracker_state(applicant, *confirmation, slots=ran.slots)
    ran = await run_action(ActionSubmitApplication(), state, domain)
    assert f"提交成功！申请 {code} 已受理" in ran.text
    assert api.call("GET", f"/applications/{code}", applicant=applicant)["status"] in (
        "accepted",
        "in_review",
    )


async def test_a_submit_that_needs_correction_sends_the_notice_picture(api, applicant, domain):
    # Every material is in, but the operator's name is not: the backend issues a one-time notice.
    info = {"legal_representative": "李四", "address": "兰山区通达路2号", "phone": "13912345678"}
    created = api.application(applicant, answers=api.complete_answers("bookstore"), info=info)
    code = created["code"]
    api.provide(applicant, created)
    slots = {"application_code": code, "confirming": "submit"}
    ran = await run_action(
        ActionSubmitApplication(), tracker_state(applicant, "确认", "affirm", slots=slots), domain
    )
    assert f"申请 {code} 已提交，但还不能受理。" in ran.text and "经营者名称" in ran.text
    [picture] = images(ran)
    assert notice_subject(picture)[:2] == ["application", code]
    assert fetch_picture(api, picture)[:8] == b"\x89PNG\r\n\x1a\n"
    assert api.call("GET", f"/applications/{code}", applicant=applicant)["status"] == "needs_correction"


async def test_progress_with_no_application(api, applicant, domain):
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "办到哪一步了", "ask_progress"), domain
    )
    assert "还没有申请记录" in ran.texts[-1]


async def test_progress_asked_about_before_applying_gets_the_documents_answer(api, applicant, domain):
    # Someone with no application asking how progress is followed is asking how it works.
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "怎么查办理进度", "ask_progress"), domain
    )
    assert len(ran.texts) == 2
    assert "\n出处：" in ran.texts[0] and "查看原文：" in ran.texts[0]
    assert ran.texts[1].startswith("您目前还没有申请记录")
    # With an application, the same words show its progress.
    api.accepted_application(applicant)
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "怎么查办理进度", "ask_progress"), domain
    )
    assert "出处：" not in ran.text and "还没有申请记录" not in ran.text


async def test_progress_shows_each_department_and_due_date(api, applicant, domain):
    accepted = api.accepted_application(applicant)
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "办到哪一步了", "ask_progress"), domain
    )
    assert f"申请 {accepted['code']}（书店·开办）当前状态：" in ran.text
    assert "· 市场监督管理局｜营业执照：" in ran.text and "前办结" in ran.text
    assert ran.slots == {"application_code": accepted["code"]}


async def test_progress_asks_which_when_there_are_several(api, applicant, domain):
    first = api.application(applicant)["code"]
    second = api.application(applicant, "pharmacy")["code"]
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "进度怎么样了", "ask_progress"), domain
    )
    assert "您有 2 份申请" in ran.text
    payloads = [b["payload"] for b in ran.buttons]
    assert payloads == [
        f'/ask_progress{{"application_code": "{second}"}}',
        f'/ask_progress{{"application_code": "{first}"}}',
    ]
    chosen = tracker_state(applicant, payloads[1], "ask_progress", entities={"application_code": first})
    ran = await run_action(ActionShowProgress(), chosen, domain)
    assert f"申请 {first}" in ran.text and "还没有提交" in ran.text


async def test_progress_of_someone_elses_code_is_not_found(api, applicant, domain):
    other = api.application(applicant + "-other")["code"]
    state = tracker_state(
        applicant, f"查询{other.lower()}", "ask_progress", entities={"application_code": other.lower()}
    )
    ran = await run_action(ActionShowProgress(), state, domain)
    assert f"没有找到编码为 {other} 的申请" in ran.text


async def test_a_completed_application_offers_the_rating_once(api, applicant, domain):
    done = api.issue_licence(applicant)
    assert done["status"] == "completed"
    ran = await run_action(ActionShowProgress(), tracker_state(applicant, "办好了吗", "ask_progress"), domain)
    assert "已全部办结" in ran.text and done["licence_number"] in ran.text
    assert "打个分" in ran.texts[-1] and ran.buttons[-1]["payload"] == '/rate{"score": "5"}'
    assert ran.slots["rating_application"] == done["code"]
    again = tracker_state(applicant, "办好了吗", "ask_progress", slots={"rating_application": done["code"]})
    assert "打个分" not in (await run_action(ActionShowProgress(), again, domain)).text


async def test_free_text_applicant_data_yields_only_to_clear_interruptions(api, applicant, domain):
    accepted = form_state(
        applicant,
        "王五",
        "deny",
        form=FORM,
        requested="legal_representative",
        candidates={"legal_representative": "王五"},
        slots={"industry": "restaurant"},
        confidence=0.7,
    )
    assert (await run_action(ValidateApplicationForm(), accepted, domain)).slots == {
        "legal_representative": "王五"
    }
    for said, intent in [("算了", "cancel"), ("名称有什么要求吗", "ask_policy"), ("谢谢", "thanks")]:
        state = form_state(
            applicant,
            said,
            intent,
            form=FORM,
            requested="operator_name",
            candidates={"operator_name": said},
            slots={"industry": "restaurant"},
        )
        ran = await run_action(ValidateApplicationForm(), state, domain)
        assert ran.events[-1]["event"] == "action_execution_rejected", said
        assert ran.slots == {"operator_name": None}


# --- after acceptance: materials promised for later (容缺后补) ----------------------------------------


def accepted_with_promises(api, applicant, promised=None):
    """A restaurant accepted with every key material in and the non-key ones (the first `promised` of
    them, or all) promised for later, as the submit confirmation does."""
    created = api.application(applicant, "restaurant", answers=api.complete_answers("restaurant"))
    code = created["code"]
    later = [m for m in created["materials"] if not m["key"]][:promised]
    for material in created["materials"]:
        if material in later:
            path, body = "commitments", {"material_id": material["material_id"], "kind": "later"}
        else:
            path, body = "materials", {"material_id": material["material_id"]}
        api.call("POST", f"/applications/{code}/{path}", body, applicant=applicant)
    accepted = api.call("POST", f"/applications/{code}/submit", applicant=applicant)
    assert accepted["status"] == "accepted"
    owed = [m for m in accepted["materials"] if m["status"] == "committed"]
    assert len(owed) == len(later) >= 1
    return accepted, owed


def due(material):
    day = date.fromisoformat(material["commitment_deadline"])
    return f"{day.month}月{day.day}日前补交"


def photo_state(applicant, code, file_id, **slots):
    return tracker_state(
        applicant,
        f'/upload_material{{"file_id":"{file_id}"}}',
        "upload_material",
        entities={"file_id": file_id},
        slots={"application_code": code, **slots},
    )


async def test_a_blurred_dark_photo_is_filed_with_how_to_take_it_again(api, applicant, domain):
    # The backend's quality warnings once never reached the chat: the application's files did not list them.
    code = api.application(applicant)["code"]
    poor = api.upload(applicant, poor=True)
    assert len(poor["warnings"]) == 2
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, poor["file_id"]), domain)
    form = "证照联办综合申请表"
    assert ran.texts[0].startswith(f"已收到，已作为【{form}】登记到申请 {code}。")
    assert "请注意：图片可能有些模糊" in ran.text and "图片偏暗" in ran.text
    assert "光线充足" in ran.text and "平放" in ran.text and "拍全整页" in ran.text
    # How to send the retake so it is filed as this material, not as the next one on the list.
    assert f"发送前先说一声“这是{form}”" in ran.text
    assert "下一份请上传【法定代表人（负责人、经营者）身份证件】" in ran.text

    sharp = api.upload(applicant)
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, sharp["file_id"]), domain)
    assert "请注意" not in ran.text and "模糊" not in ran.text


async def test_a_poor_photo_sent_before_the_application_is_warned_about_when_filed(api, applicant, domain):
    poor = api.upload(applicant, poor=True)["file_id"]
    slots = {"industry": "bookstore", **INFO, "file_id": poor, "material_hint": "身份证"}
    ran = await run_action(ActionStartApplication(), tracker_state(applicant, slots=slots), domain)
    filed = next(t for t in ran.texts if t.startswith("您之前发来的文件已登记为"))
    assert "图片可能有些模糊" in filed and "“这是法定代表人（负责人、经营者）身份证件”" in filed


async def test_what_is_missing_after_acceptance_lists_the_promised_materials(api, applicant, domain):
    accepted, owed = accepted_with_promises(api, applicant)
    code = accepted["code"]
    ask = tracker_state(applicant, "还缺什么材料", "ask_missing_materials")
    ran = await run_action(ActionShowMissingMaterials(), ask, domain)
    assert f"申请 {code} 当前为“已受理”。以下 {len(owed)} 份容缺后补的材料还需要在期限内补交" in ran.text
    for material in owed:
        assert f"· {material['name']}：{due(material)}" in ran.text
    assert "交齐" not in ran.text and "不需要补充" not in ran.text
    assert ran.slots == {"application_code": code}

    for material in owed:
        api.call(
            "POST",
            f"/applications/{code}/materials",
            {"material_id": material["material_id"], "file_id": api.upload(applicant)["file_id"]},
            applicant=applicant,
        )
    ran = await run_action(ActionShowMissingMaterials(), ask, domain)
    assert f"申请 {code} 当前为“已受理”，材料已经全部交齐，没有需要补交的容缺材料。" in ran.text


async def test_a_photo_after_acceptance_delivers_a_promised_material(api, applicant, domain):
    accepted, owed = accepted_with_promises(api, applicant)
    assert len(owed) >= 3
    code = accepted["code"]
    first, second = owed[0], owed[1]

    # Several are owed and nothing says which: ask, with a button per promised material.
    photo = api.upload(applicant)["file_id"]
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo), domain)
    assert f"申请 {code} 还有 {len(owed)} 份容缺后补的材料待补交，请问这是哪一份" in ran.text
    assert [b["title"] for b in ran.buttons] == [m["name"] for m in owed][:8]
    payload = f'/upload_material{{"file_id": "{photo}", "material_hint": "{first["material_id"]}"}}'
    assert payload in [b["payload"] for b in ran.buttons]
    assert "暂时不需要" not in ran.text

    # The button names it: delivered, and what is still owed is listed with its deadline.
    pressed = tracker_state(
        applicant,
        payload,
        "upload_material",
        entities={"file_id": photo, "material_hint": first["material_id"]},
        slots={"application_code": code},
    )
    ran = await run_action(ActionAttachMaterial(), pressed, domain)
    assert ran.texts[0].startswith(f"已收到，【{first['name']}】已补交，登记到申请 {code}。")
    assert f"还有 {len(owed) - 1} 份容缺后补的材料需要在期限内补交" in ran.text
    assert f"· {second['name']}：{due(second)}" in ran.text and first["name"] not in ran.texts[0][20:]
    assert "齐全" not in ran.text
    assert ran.slots == {
        "file_id": None,
        "material_hint": None,
        "application_code": code,
        "filed_file": {"application_code": code, "material_id": first["material_id"], "file_id": photo},
    }
    current = api.call("GET", f"/applications/{code}", applicant=applicant)
    item = next(m for m in current["materials"] if m["material_id"] == first["material_id"])
    assert item["status"] == "provided" and item["file_ids"] == [photo]

    # Saying which one first ("这是…"), then the photo: filed as that one, no question.
    said = tracker_state(
        applicant,
        f"这是{second['name']}",
        "upload_material",
        entities={"material_hint": second["name"]},
        slots={"application_code": code},
    )
    ran = await run_action(ActionAttachMaterial(), said, domain)
    assert f"请上传【{second['name']}】" in ran.text
    assert ran.slots["material_hint"] == second["material_id"]
    ran = await run_action(
        ActionAttachMaterial(),
        photo_state(applicant, code, api.upload(applicant, seed=1)["file_id"], **ran.slots),
        domain,
    )
    assert ran.texts[0].startswith(f"已收到，【{second['name']}】已补交")


async def test_the_last_promised_material_needs_no_question(api, applicant, domain):
    accepted, [owed] = accepted_with_promises(api, applicant, promised=1)
    code = accepted["code"]
    ran = await run_action(
        ActionShowProgress(), tracker_state(applicant, "办到哪一步了", "ask_progress"), domain
    )
    assert f"另有 1 份容缺后补的材料待补交，最早一份{due(owed).removesuffix('前补交')}到期" in ran.text
    # No application code remembered: the accepted application that still owes something takes it.
    photo = api.upload(applicant)["file_id"]
    state = tracker_state(applicant, "/upload_material", "upload_material", entities={"file_id": photo})
    ran = await run_action(ActionAttachMaterial(), state, domain)
    assert ran.texts[0].startswith(f"已收到，【{owed['name']}】已补交，登记到申请 {code}。")
    assert "容缺后补的材料已经全部补齐" in ran.text
    # Nothing is owed any more: another photo is not taken.
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, api.upload(applicant, seed=2)["file_id"]), domain
    )
    assert "暂时不需要上传材料" in ran.text


async def test_a_poor_photo_delivered_after_acceptance_says_what_happens_next(api, applicant, domain):
    accepted, [owed] = accepted_with_promises(api, applicant, promised=1)
    code = accepted["code"]
    poor = api.upload(applicant, poor=True)["file_id"]
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, poor), domain)
    assert ran.texts[0].startswith(f"已收到，【{owed['name']}】已补交，登记到申请 {code}。")
    assert "请注意：图片可能有些模糊" in ran.text
    # After acceptance no other photo of it is taken: no promise to file a retake.
    assert "不能再换照片" in ran.text and "光线充足" in ran.text and "这是" not in ran.text


async def test_a_correction_never_reads_as_complete_while_promises_are_owed(api, applicant, domain):
    accepted, owed = accepted_with_promises(api, applicant, promised=2)
    code = accepted["code"]
    asked = next(m for m in accepted["materials"] if m["status"] == "provided" and not m["key"])
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    api.decide(
        task["id"],
        {
            "decision": "request_correction",
            "problems": [{"material_id": asked["material_id"], "problem": "照片模糊，请重新拍摄"}],
        },
    )
    ask = tracker_state(applicant, "还缺什么材料", "ask_missing_materials")
    ran = await run_action(ActionShowMissingMaterials(), ask, domain)
    # The reviewer asked for it: never offered as something to bring later.
    assert f"· {asked['name']}：需重新提交：照片模糊，请重新拍摄" in ran.text
    assert "可以容缺后补" not in ran.text and "可容缺后补" not in ran.text
    ran = await run_action(
        ActionSubmitApplication(), tracker_state(applicant, "提交", "submit_application"), domain
    )
    assert f"申请 {code} 还有部门要求补正的材料" in ran.text

    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, api.upload(applicant)["file_id"]), domain
    )
    assert ran.texts[0].startswith(f"已收到，已作为【{asked['name']}】登记到申请 {code}。")
    assert "齐全" not in ran.text
    assert "要求补正的材料都已重新提交" in ran.text
    assert f"另有 {len(owed)} 份容缺后补的材料，请在期限内补交" in ran.text
    for material in owed:
        assert f"· {material['name']}：{due(material)}" in ran.text


# --- naming the material before the photo; the same photo twice --------------------------------------------


def restaurant_with_gas(api, applicant, **answers):
    """A restaurant draft whose list has the gas contract (燃气使用安全证明) and the lease."""
    chosen = {**api.complete_answers("restaurant"), "premises": "leased", "uses_gas": True, **answers}
    return api.application(applicant, "restaurant", answers=chosen)


def named(applicant, text, hint, **slots):
    return tracker_state(applicant, text, "upload_material", entities={"material_hint": hint}, slots=slots)


async def test_a_material_named_in_words_takes_the_next_photo(api, applicant, domain):
    # The tester's case: "这是燃气合同", then a photo, which was filed as the lease.
    code = restaurant_with_gas(api, applicant)["code"]
    ran = await run_action(ActionAttachMaterial(), named(applicant, "这是燃气合同", "燃气合同"), domain)
    assert "请上传【燃气使用安全证明】" in ran.text
    assert ran.slots["material_hint"] == "gas_safety_proof"
    photo = api.upload(applicant)["file_id"]
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo, **ran.slots), domain)
    assert ran.texts[0].startswith(f"已收到，已作为【燃气使用安全证明】登记到申请 {code}。")
    assert ran.slots["material_hint"] is None
    for said, hint, name in [
        ("下面这张是租赁合同", "租赁合同", "房屋租赁合同"),
        ("发个供气合同", "供气合同", "燃气使用安全证明"),
    ]:
        ran = await run_action(ActionAttachMaterial(), named(applicant, said, hint), domain)
        assert f"请上传【{name}】" in ran.text, said


async def test_the_everyday_name_of_the_premises_proof(api, applicant, domain):
    api.application(applicant)  # premises not answered yet: the list asks for 经营场所使用证明
    ran = await run_action(
        ActionAttachMaterial(), named(applicant, "发个营业场所证明", "营业场所证明"), domain
    )
    assert "请上传【经营场所使用证明】" in ran.text


async def test_the_same_photo_is_not_filed_as_a_second_material(api, applicant, domain):
    created = restaurant_with_gas(api, applicant)
    code = created["code"]
    photo = api.upload(applicant)["file_id"]
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, photo, material_hint="lease_contract"), domain
    )
    assert "已作为【房屋租赁合同】登记" in ran.text
    # The same picture again (the backend gives one person's identical upload the same id), as the gas one.
    again = api.upload(applicant)["file_id"]
    assert again == photo
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, again, material_hint="gas_safety_proof"), domain
    )
    assert "这张和已登记为【房屋租赁合同】的是同一份文件，没有再登记为【燃气使用安全证明】" in ran.text
    assert "回复“发错了”就能把它从【房屋租赁合同】中撤回" in ran.text
    assert ran.slots == {
        "file_id": None,
        "material_hint": "gas_safety_proof",
        "application_code": code,
        "filed_file": {
            "application_code": code,
            "material_id": "lease_contract",
            "file_id": photo,
            "meant": "gas_safety_proof",
        },
    }
    items = {
        m["material_id"]: m
        for m in api.call("GET", f"/applications/{code}", applicant=applicant)["materials"]
    }
    assert items["gas_safety_proof"]["status"] == "missing" and items["gas_safety_proof"]["file_ids"] == []
    # Another picture is taken for it.
    other = api.upload(applicant, seed=3)["file_id"]
    kept = ran.slots["material_hint"]
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, other, material_hint=kept), domain
    )
    assert "已作为【燃气使用安全证明】登记" in ran.text


async def test_a_photo_filed_as_the_wrong_material_moves_to_the_one_it_was_sent_for(api, applicant, domain):
    code = restaurant_with_gas(api, applicant)["code"]
    photo = api.upload(applicant)["file_id"]
    await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, photo, material_hint="lease_contract"), domain
    )
    refused = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, photo, material_hint="gas_safety_proof"), domain
    )
    # "发错了" right after the refusal takes the photo back from the lease, not from the gas proof.
    ran = await run_action(ActionApplyCorrection(), after_filing(applicant, refused, "发错了"), domain)
    assert ran.texts[0] == (
        "好的，刚才那张照片已从【房屋租赁合同】中删除。\n"
        "如果这张其实是【燃气使用安全证明】，请再发一次，我会登记为【燃气使用安全证明】。"
    )
    assert ran.slots["material_hint"] == "gas_safety_proof"
    assert item_of_application(api, applicant, code, "lease_contract")["file_ids"] == []
    again = photo_state(applicant, code, photo, material_hint=ran.slots["material_hint"])
    again["latest_message"]["message_id"] = "later-message-2"
    ran = await run_action(ActionAttachMaterial(), again, domain)
    assert "已作为【燃气使用安全证明】登记" in ran.text
    assert item_of_application(api, applicant, code, "gas_safety_proof")["file_ids"] == [photo]


# --- 容缺后补 / 告知承诺 chosen in chat ---------------------------------------------------------------------


def asking(applicant, text, hint=None, **entities):
    if hint:
        entities["material_hint"] = hint
    return tracker_state(applicant, text, "commit_material", entities=entities)


def item_of(api, applicant, code, material_id):
    current = api.call("GET", f"/applications/{code}", applicant=applicant)
    return next(m for m in current["materials"] if m["material_id"] == material_id)


async def test_asking_to_hand_a_material_in_later_offers_what_the_backend_allows(api, applicant, domain):
    created = restaurant_with_gas(api, applicant)
    code = created["code"]
    equipment = next(m for m in created["materials"] if m["material_id"] == "food_equipment_list")
    assert equipment["can_supply_later"] and equipment["can_pledge"]
    # The tester's words got "请上传…": now both ways, the deadline and what a promise means.
    ran = await run_action(
        ActionCommitMaterial(), asking(applicant, "设施设备清单后面再补可以吗", "设备清单"), domain
    )
    assert "【食品经营设施设备清单】可以这样办" in ran.text
    assert f"{due({'commitment_deadline': equipment['supply_later_by']})}" in ran.text
    assert "告知承诺：" in ran.text and "不用再提交这份材料" in ran.text
    assert "请上传" not in ran.text
    chosen = '/commit_material{"material_hint": "food_equipment_list", "commitment_kind": "%s"}'
    assert ran.buttons == [
        {"title": "容缺后补", "payload": chosen % "later"},
        {"title": "告知承诺", "payload": chosen % "pledge"},
    ]
    assert item_of(api, applicant, code, "food_equipment_list")["status"] == "missing"

    # The button chooses.
    pressed = asking(applicant, ran.buttons[1]["payload"], "food_equipment_list", commitment_kind="pledge")
    ran = await run_action(ActionCommitMaterial(), pressed, domain)
    assert "【食品经营设施设备清单】按告知承诺办理" in ran.text
    assert item_of(api, applicant, code, "food_equipment_list")["status"] == "pledged"

    # Said outright (no question): done at once, with the deadline the backend set.
    ran = await run_action(
        ActionCommitMaterial(), asking(applicant, "燃气合同过几天再交", "燃气合同"), domain
    )
    gas = item_of(api, applicant, code, "gas_safety_proof")
    assert gas["status"] == "committed"
    assert f"【燃气使用安全证明】按容缺后补办理：受理不等这份材料，请在{due(gas)}" in ran.text
    assert "还差" in ran.text and "下一份请上传" in ran.text


async def test_a_key_material_may_only_be_promised_where_the_catalog_allows(api, applicant, domain):
    created = restaurant_with_gas(api, applicant, cold_dishes=True)
    code = created["code"]
    # The lease is key and no promise covers it: it must come now, and the next photo is it.
    ran = await run_action(
        ActionCommitMaterial(), asking(applicant, "租赁合同能晚点交吗", "租赁合同"), domain
    )
    assert "【房屋租赁合同】是关键材料，不能容缺后补，也不适用告知承诺" in ran.text
    assert "请上传【房屋租赁合同】" in ran.text and ran.buttons == []
    assert ran.slots["material_hint"] == "lease_contract"
    # The special room's description is key, but 告知承诺 may stand in for it.
    ran = await run_action(
        ActionCommitMaterial(), asking(applicant, "专间说明后面再补行吗", "专间说明"), domain
    )
    assert "【专间设置说明】不能容缺后补，但可以这样办：" in ran.text and "告知承诺：" in ran.text
    assert [b["title"] for b in ran.buttons] == ["告知承诺"]
    assert item_of(api, applicant, code, "special_room_description")["status"] == "missing"


async def test_without_a_material_named_the_ones_that_may_wait_are_offered(api, applicant, domain):
    restaurant_with_gas(api, applicant)
    ran = await run_action(ActionCommitMaterial(), asking(applicant, "有些材料能不能先承诺"), domain)
    assert "想把哪份材料容缺后补或告知承诺" in ran.text
    assert "· 燃气使用安全证明：可容缺后补、可告知承诺" in ran.text
    assert "房屋租赁合同" not in ran.text
    assert '/commit_material{"material_hint": "gas_safety_proof"}' in [b["payload"] for b in ran.buttons]


async def test_before_applying_the_checklist_says_what_a_material_allows(api, applicant, domain):
    state = tracker_state(
        applicant,
        "设施设备清单后面再补可以吗",
        "commit_material",
        entities={"material_hint": "设备清单"},
        slots={"industry": "restaurant"},
    )
    ran = await run_action(ActionCommitMaterial(), state, domain)
    assert "【食品经营设施设备清单】可以容缺后补" in ran.text and "也可以告知承诺" in ran.text
    assert {"title": "我要申请", "payload": "/start_application"} in ran.buttons


async def test_after_acceptance_nothing_more_can_be_promised(api, applicant, domain):
    accepted, _owed = accepted_with_promises(api, applicant, promised=1)
    ran = await run_action(ActionCommitMaterial(), asking(applicant, "设备清单能后补吗", "设备清单"), domain)
    assert f"申请 {accepted['code']} 已经受理，容缺后补和告知承诺要在提交前选择" in ran.text


# --- a photo sent by mistake; a retake of a poor photo -----------------------------------------------------


def filing_turn(ran):
    """The events of the turn `ran` (a photo filed by action_attach_material), as the tracker keeps them."""
    return [
        user_event("/upload_material", "upload_material"),
        {"event": "action", "name": "action_attach_material"},
        *ran.events,
        *({"event": "bot", "text": said} for said in ran.texts),
    ]


def after_filing(applicant, ran, text):
    """The applicant's next message `text` (a correction), right after the turn `ran` filed a photo."""
    return tracker_state(applicant, text, "correct", events=filing_turn(ran))


def item_of_application(api, applicant, code, material_id):
    current = api.call("GET", f"/applications/{code}", applicant=applicant)
    return next(m for m in current["materials"] if m["material_id"] == material_id)


async def test_a_photo_sent_by_mistake_is_taken_back_right_after_it_was_filed(api, applicant, domain):
    code = api.application(applicant)["code"]
    form = "证照联办综合申请表"
    photo = api.upload(applicant)["file_id"]
    filed = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo), domain)
    assert f"已作为【{form}】登记" in filed.text

    ran = await run_action(
        ActionApplyCorrection(), after_filing(applicant, filed, "传错了，删掉刚才那张"), domain
    )
    assert ran.texts[0].startswith(f"好的，刚才那张照片已从【{form}】中删除。")
    assert f"【{form}】现在还没有提交。" in ran.text
    assert f"请直接发正确的照片或扫描件，我会登记为【{form}】" in ran.text
    assert "如果刚才那张其实是别的材料，先说一声“这是……”再发" in ran.text
    assert ran.slots == {
        "filed_file": None,
        "application_code": code,
        "material_hint": "joint_application_form",
    }
    item = item_of_application(api, applicant, code, "joint_application_form")
    assert (item["status"], item["file_ids"]) == ("missing", [])

    # Taken back by mistake, the same photo can be filed again (in a later message).
    again = photo_state(applicant, code, photo, material_hint="joint_application_form")
    again["latest_message"]["message_id"] = "later-message-1"
    ran = await run_action(ActionAttachMaterial(), again, domain)
    assert f"已作为【{form}】登记" in ran.text
    assert item_of_application(api, applicant, code, "joint_application_form")["file_ids"] == [photo]


async def test_a_page_taken_back_leaves_the_other_pages(api, applicant, domain):
    code = api.application(applicant)["code"]
    first = api.upload(applicant)["file_id"]
    api.call(
        "POST",
        f"/applications/{code}/materials",
        {"material_id": "applicant_id", "file_id": first},
        applicant=applicant,
    )
    second = api.upload(applicant, seed=4)["file_id"]
    filed = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, second, material_hint="身份证"), domain
    )
    ran = await run_action(ActionApplyCorrection(), after_filing(applicant, filed, "刚才那张不对"), domain)
    name = "法定代表人（负责人、经营者）身份证件"
    assert ran.texts[0] == (
        f"好的，刚才那张照片已从【{name}】中删除。\n"
        f"【{name}】还有另外 1 页，仍算已提交，不受影响。\n"
        f"如果还要补拍一页，发之前说一声“这是{name}”，再直接发照片就行。"
    )
    assert "material_hint" not in ran.slots
    item = item_of_application(api, applicant, code, "applicant_id")
    assert (item["status"], item["file_ids"]) == ("provided", [first])


async def test_mistake_words_keep_their_meaning_when_no_photo_was_just_filed(api, applicant, domain):
    code = api.application(applicant)["code"]
    photo = api.upload(applicant)["file_id"]
    filed = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo), domain)
    # Another message came between the photo and "发错了": the words are about that one, as before.
    between = [
        user_event("还缺什么材料", "ask_missing_materials"),
        {"event": "action", "name": "action_show_missing_materials"},
        {"event": "bot", "text": "申请的材料情况：……"},
    ]
    state = tracker_state(
        applicant,
        "发错了",
        "correct",
        events=[*filing_turn(filed), *between],
        slots={"application_code": code},
    )
    ran = await run_action(ActionApplyCorrection(), state, domain)
    assert "删除" not in ran.text and "请告诉我要改成什么" in ran.text
    assert item_of_application(api, applicant, code, "joint_application_form")["file_ids"] == [photo]


async def test_a_photo_delivered_after_acceptance_is_not_taken_back(api, applicant, domain):
    accepted, [owed] = accepted_with_promises(api, applicant, promised=1)
    code = accepted["code"]
    photo = api.upload(applicant)["file_id"]
    filed = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo), domain)
    assert f"【{owed['name']}】已补交" in filed.text
    ran = await run_action(ActionApplyCorrection(), after_filing(applicant, filed, "发错了"), domain)
    assert ran.text == (
        "申请当前为“已受理”，材料已交审批部门，文件不能再删除。"
        "如果确实发错了，可以回复“转人工”，请工作人员帮您处理。"
    )
    assert item_of_application(api, applicant, code, owed["material_id"])["file_ids"] == [photo]


async def test_inside_the_form_mistake_words_right_after_a_photo_are_not_an_answer(api, applicant, domain):
    code = api.application(applicant)["code"]
    photo = api.upload(applicant)["file_id"]
    filed = await run_action(ActionAttachMaterial(), photo_state(applicant, code, photo), domain)

    def asked_for_the_name(events):
        return form_state(
            applicant,
            "发错了",
            "correct",
            form=FORM,
            requested="operator_name",
            candidates={"operator_name": "发错了"},
            slots={"industry": "restaurant"},
            events=events,
            confidence=0.8,
        )

    # Not sure enough to stop the form for a shop name, unless a photo was filed just before.
    ran = await run_action(ValidateApplicationForm(), asked_for_the_name([]), domain)
    assert ran.slots == {"operator_name": "发错了"}
    ran = await run_action(ValidateApplicationForm(), asked_for_the_name(filing_turn(filed)), domain)
    assert ran.events[-1]["event"] == "action_execution_rejected"
    assert ran.slots == {"operator_name": None}


async def test_a_sharp_retake_replaces_the_blurred_photo(api, applicant, domain):
    code = api.application(applicant)["code"]
    form = "证照联办综合申请表"
    poor = api.upload(applicant, poor=True)["file_id"]
    ran = await run_action(ActionAttachMaterial(), photo_state(applicant, code, poor), domain)
    # Sending the retake is all it takes: no need to take the blurred one back first.
    assert (
        f"发送前先说一声“这是{form}”，再直接发新照片就行，清晰的新照片会替换掉这张不清晰的，不用先删除"
        in ran.text
    )

    sharp = api.upload(applicant, seed=5)["file_id"]
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, sharp, material_hint=form), domain
    )
    assert ran.texts[0].startswith(
        f"已收到，已作为【{form}】登记到申请 {code}。\n清晰的新照片已替换之前那张不清晰的照片。"
    )
    assert item_of_application(api, applicant, code, "joint_application_form")["file_ids"] == [sharp]

    # A poor page beside a sharp one stays until taken back: the retake would only be one more page.
    another = api.upload(applicant, poor=True, seed=6)["file_id"]
    ran = await run_action(
        ActionAttachMaterial(), photo_state(applicant, code, another, material_hint=form), domain
    )
    assert "这张不清晰的可以回复“删掉刚才那张”撤回" in ran.text and "替换" not in ran.text
    ran = await run_action(ActionApplyCorrection(), after_filing(applicant, ran, "删掉刚才那张"), domain)
    assert ran.texts[0].startswith(f"好的，刚才那张照片已从【{form}】中删除。")
    assert item_of_application(api, applicant, code, "joint_application_form")["file_ids"] == [sharp]
