"""Policy answers: the backend's search with its citation and a 查看原文 link; nothing found → says so."""

import pytest

from actions.handoff import ActionFallback
from actions.policy import (
    NOT_FOUND,
    SUGGESTED,
    SURE_OUT_OF_SCOPE_MARGIN,
    TIED,
    ActionGreet,
    ActionOutOfScope,
    ActionPolicySearch,
    is_question,
    search_margin,
)
from tests.actions.conftest import backend_down, run_action, tracker_state, user_event


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


async def test_passages_that_fit_as_well_as_the_answer_are_listed_with_it(api, applicant, domain):
    # The three rows of annex 1 that 道路运输管理机构 approves match 运管所批什么许可 equally.
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "运管所批什么许可", "ask_policy"), domain
    )
    [message] = ran.messages
    answer, _, rest = message["text"].partition(TIED)
    assert rest, message["text"]
    rows = {"设立道路运输站", "机动车维修", "普通货物运输"}
    named = {name for name in rows if name in answer}
    assert len(named) == 1
    assert all(name in rest.split("\n出处：")[0] for name in rows - named)
    # One clear answer stands alone.
    ran = await run_action(
        ActionPolicySearch(), tracker_state(applicant, "什么是容缺受理", "ask_policy"), domain
    )
    assert TIED not in ran.text


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
        ActionPolicySearch(), tracker_state(applicant, "缺一两份材料能先办吗", "ask_policy"), domain
    )
    assert ran.texts == [f"{NOT_FOUND}\n\n{SUGGESTED.format(how='点按钮或回复对应的文字')}"]
    question = "“容缺受理”指的是什么？"
    assert ran.buttons[0] == {"title": question, "payload": question}
    assert ran.buttons[-1] == {"title": "转人工", "payload": "/request_human"}


async def test_out_of_scope_reading_is_answered_when_the_documents_answer_it(api, applicant, domain):
    # NLU reads some policy questions in everyday words as out of scope; the search has the last word.
    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, "什么是容缺受理", "out_of_scope", confidence=0.7), domain
    )
    [message] = ran.messages
    assert "容缺受理" in message["text"] and "出处：" in message["text"]

    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, "今天股市行情怎么样", "out_of_scope"), domain
    )
    assert ran.responses() == ["utter_out_of_scope"] and "出处" not in "".join(ran.texts)

    # A message that asks nothing: the search is not asked.
    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, "容缺受理", "out_of_scope", confidence=0.5), domain
    )
    assert ran.responses() == ["utter_out_of_scope"]


async def test_nlu_sure_it_is_out_of_scope_needs_a_clear_answer(api, applicant, domain):
    # DIET is often sure of a policy question in everyday words: a clear answer still gets through ...
    sure = tracker_state(applicant, "什么是容缺受理", "out_of_scope", confidence=0.99)
    ran = await run_action(ActionOutOfScope(), sure, domain)
    assert "容缺受理" in ran.text and "\n出处：" in ran.text
    # ... one that only just passes the search's threshold does not (answered when NLU is unsure).
    question = "开旅行社要交多少质量保证金"
    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, question, "out_of_scope", confidence=0.99), domain
    )
    assert ran.responses() == ["utter_out_of_scope"]
    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, question, "out_of_scope", confidence=0.7), domain
    )
    assert "\n出处：" in ran.text


async def test_nlu_sure_of_a_story_is_not_trusted_over_the_search(api, applicant, domain):
    # A story before the question is mostly words DIET learnt from chat: it is put to the search as an
    # unsure reading is (the search clears this one by less than the margin a short message needs).
    story = "俺闺女想在临沂开个带餐饮的小宾馆，托俺问问有没有一条链办下来的办法"
    assert search_margin(story, "out_of_scope", 0.99) == 0.0
    assert search_margin(story[-16:], "out_of_scope", 0.99) == SURE_OUT_OF_SCOPE_MARGIN
    ran = await run_action(
        ActionOutOfScope(), tracker_state(applicant, story, "out_of_scope", confidence=0.99), domain
    )
    assert "一链办理" in ran.text and "\n出处：" in ran.text


async def test_out_of_scope_with_the_backend_down_still_redirects(applicant, domain, monkeypatch):
    with backend_down(monkeypatch):
        ran = await run_action(
            ActionOutOfScope(), tracker_state(applicant, "什么是容缺受理", "out_of_scope"), domain
        )
    assert ran.responses() == ["utter_out_of_scope"]


async def test_an_unsure_reading_the_documents_answer_is_answered_not_sent_back(api, applicant, domain):
    ran = await run_action(
        ActionFallback(), tracker_state(applicant, "啥叫容缺受理 能简单说说吗", "nlu_fallback"), domain
    )
    assert "出处：" in ran.texts[0] and ran.events == []
    # An unclear message right after that answer is the first misunderstanding, not the second.
    earlier = [
        user_event("啥叫容缺受理 能简单说说吗", "nlu_fallback"),
        {"event": "bot", "text": ran.texts[0]},
    ]
    ran = await run_action(
        ActionFallback(), tracker_state(applicant, "嗯那个啥", "nlu_fallback", events=earlier), domain
    )
    assert ran.responses() == ["utter_please_rephrase"]
    with pytest.raises(AssertionError, match="404"):
        api.call("GET", "/handoffs/current", applicant=applicant)


async def test_a_greeting_that_asks_something_gets_the_documents_answer(api, applicant, domain):
    ran = await run_action(ActionGreet(), tracker_state(applicant, "下午几点下班", "greet"), domain)
    [message] = ran.messages
    # The hours the test backend keeps (OFFICE_HOURS in tests/actions/backend_process.py), as the handoff.
    assert "办公时间周一至周日 00:00-23:59" in message["text"] and "\n出处：" in message["text"]

    ran = await run_action(ActionGreet(), tracker_state(applicant, "你好", "greet"), domain)
    assert ran.responses() == ["utter_greet"]


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("还差一份证明，能先把申请递上去不", True),
        ("以后能加进来不。", True),
        ("申请材料减少了多少", True),
        ("开旅行社的许可证谁批", True),
        ("开饭店要办证不", True),
        ("证到期了是重新办还是延续", True),  # a choice between two things
        ("我还是想开饭店", False),  # 还是 as "still"
        ("我这边的材料都齐了", False),
        # Answers to a form's question that end the same way: no modal verb before the 没有.
        ("还没有", False),
        ("营业执照还没有", False),
        ("好的，知道了", False),
    ],
)
def test_spoken_questions_are_told_from_statements(text, asks):
    assert is_question(text) is asks
