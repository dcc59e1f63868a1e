"""Policy answers: the backend's search with its citation and a 查看原文 link; nothing found → says so."""

from actions.policy import NOT_FOUND, SUGGESTED, ActionPolicySearch
from tests.actions.conftest import run_action, tracker_state


async def test_a_policy_answer_cites_its_document_and_links_the_original(api, applicant, domain):
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "什么是容缺受理", "ask_policy"), domain
    )
    [message] = ran.messages
    assert "容缺受理" in message["text"]
    assert "出处：《临沂市推行“证照联办”工作实施方案》" in message["text"]
    # BACKEND_PUBLIC_URL, not the internal backend address: people open the link on their phone.
    assert (
        "查看原文：https://zwfw.example.gov.cn/policies/linyi-2018-188/passages/3-2#p-3-2" in message["text"]
    )


async def test_nothing_found_is_said_and_a_person_offered(api, applicant, domain):
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "明天天气怎么样", "ask_policy"), domain
    )
    assert ran.texts == [NOT_FOUND]
    assert ran.buttons == [{"title": "转人工", "payload": "/request_human"}]


async def test_the_menu_button_asks_for_the_question(api, applicant, domain):
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "/ask_policy", "ask_policy"), domain
    )
    assert "请问您想咨询哪方面的政策" in ran.text
    assert {"title": "什么是容缺受理", "payload": "什么是容缺受理"} in ran.buttons


async def test_nothing_found_offers_the_faq_questions_it_may_mean(api, applicant, domain):
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "那个码扫出来是啥", "ask_policy"), domain
    )
    assert ran.texts == [f"{NOT_FOUND}\n\n{SUGGESTED.format(how='点按钮或回复对应的文字')}"]
    qr_question = "营业执照、综合许可证上的二维码是做什么的？"
    assert ran.buttons[0] == {"title": qr_question, "payload": qr_question}
    assert ran.buttons[-1] == {"title": "转人工", "payload": "/request_human"}
