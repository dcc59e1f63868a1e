"""Direct answers from the catalog: licences for an industry, time limits."""

from actions.backend import backend
from actions.catalog import ActionListLicences, ActionTimeLimit, resolve_package
from tests.actions.conftest import run_action, tracker_state


async def test_aliases_nlu_missed_still_find_their_package(api):
    for said, package in [
        ("火锅店", "restaurant"),
        ("饭馆", "restaurant"),
        ("小吃店", "restaurant"),
        ("我开火锅的", "restaurant"),
        ("卖药", "pharmacy"),
        ("小卖部", "small_shop"),
        ("restaurant", "restaurant"),
        ("开打字复印社要啥证", "printing"),
        ("开个职业介绍所要啥证", "hr_service"),
        ("买了两辆大货车跑物流要办什么证", "road_freight"),
        # The longer alias wins: a lorry repair shop repairs vehicles, it does not carry freight.
        ("开个货车维修厂", "vehicle_repair"),
    ]:
        found = await resolve_package(backend(), said)
        assert found is not None and found["id"] == package, said
    assert await resolve_package(backend(), "宠物医院") is None


async def test_hot_pot_licences_are_listed_at_once_then_the_checklist_is_offered(api, applicant, domain):
    state = tracker_state(
        applicant,
        "开火锅店要办哪些证",
        "ask_licences_for_industry",
        entities={"industry": ("火锅店", "restaurant")},
    )
    ran = await run_action(ActionListLicences(), state, domain)
    assert ran.texts[0].startswith("开火锅店属于“餐饮服务（饭店）”")
    assert "营业执照" in ran.texts[0] and "食品经营许可证" in ran.texts[0]
    assert "餐饮服务" in ran.texts[0] and "承诺" in ran.texts[0]
    # Cited like a policy answer: the document and the annex row, with a link to read it.
    lines = ran.texts[0].splitlines()
    assert lines[-2] == "出处：临政办字〔2018〕188号附件1第1项；睢市监办〔2022〕21号（饭店）"
    assert lines[-1].startswith("查看原文：http")
    assert lines[-1].endswith("/policies/linyi-2018-188/passages/a1-1#p-a1-1")
    assert {"title": "好的，帮我列清单", "payload": "/start_checklist"} in ran.buttons
    assert ran.slots == {"industry": "restaurant"}


async def test_a_package_found_in_the_words_is_named_as_the_applicant_named_it(api, applicant, domain):
    # NLU extracted no industry word; the catalog found 职业介绍所 in the text.
    state = tracker_state(applicant, "开个职业介绍所要啥证", "ask_licences_for_industry")
    ran = await run_action(ActionListLicences(), state, domain)
    assert ran.texts[0].startswith("开职业介绍所属于“人力资源服务”，需要办理以下证照")
    # A button's package id does not repeat the package's name as if it were the applicant's word.
    state = tracker_state(
        applicant, "人力资源服务", "ask_licences_for_industry", entities={"industry": "hr_service"}
    )
    ran = await run_action(ActionListLicences(), state, domain)
    assert ran.texts[0].startswith("开办“人力资源服务”需要办理以下证照")
    # An alias naming a vehicle, not a business, is not the applicant's business: the package alone.
    state = tracker_state(applicant, "买了两辆大货车要办什么证", "ask_licences_for_industry")
    ran = await run_action(ActionListLicences(), state, domain)
    assert ran.texts[0].startswith("开办“普通货物运输”需要办理以下证照，")


async def test_a_named_licence_is_confirmed(api, applicant, domain):
    state = tracker_state(
        applicant,
        "开小吃店要办食品经营许可证吗",
        "ask_licences_for_industry",
        entities={"industry": "restaurant", "licence": "食品经营许可证"},
    )
    ran = await run_action(ActionListLicences(), state, domain)
    assert "您问到的“食品经营许可证”：需要办理" in ran.text


async def test_unknown_industry_says_so_and_offers_industries(api, applicant, domain):
    state = tracker_state(
        applicant, "开宠物医院要办哪些证", "ask_licences_for_industry", entities={"industry": "宠物医院"}
    )
    ran = await run_action(ActionListLicences(), state, domain)
    assert "“宠物医院”暂时不在" in ran.text
    assert any(b["payload"] == '/ask_licences_for_industry{"industry": "restaurant"}' for b in ran.buttons)
    assert ran.events == []


async def test_no_industry_asks_which(api, applicant, domain):
    ran = await run_action(
        ActionListLicences(), tracker_state(applicant, "开店要办哪些证", "ask_licences_for_industry"), domain
    )
    assert "请问您准备开什么店" in ran.text and ran.buttons


async def test_a_question_inside_a_form_does_not_switch_its_industry(api, applicant, domain):
    state = tracker_state(
        applicant,
        "开药店要办什么证",
        "ask_licences_for_industry",
        entities={"industry": "pharmacy"},
        slots={"industry": "restaurant"},
        active_loop="checklist_form",
    )
    ran = await run_action(ActionListLicences(), state, domain)
    assert "药品经营许可证" in ran.text
    assert ran.events == [] and not ran.buttons


async def test_time_limits_of_the_industry(api, applicant, domain):
    state = tracker_state(applicant, "多久能办好", "ask_time_limit", slots={"industry": "restaurant"})
    ran = await run_action(ActionTimeLimit(), state, domain)
    assert "并行审批" in ran.text
    assert "食品经营许可证：承诺3个工作日（法定10个工作日）" in ran.text
    # The food licence waits for registration's day: four in all, and the reply says why.
    assert "全部办齐承诺4个工作日" in ran.text and "营业执照的时限加上" in ran.text


async def test_time_limit_without_industry_asks_for_it(api, applicant, domain):
    ran = await run_action(
        ActionTimeLimit(), tracker_state(applicant, "多久能办好", "ask_time_limit"), domain
    )
    assert "告诉我您开什么店" in ran.texts[-1]
    assert any("ask_time_limit" in b["payload"] for b in ran.buttons)
    # First what the documents say about time limits in general, with its source, as a policy answer.
    assert len(ran.texts) == 2
    assert "\n出处：" in ran.texts[0] and "查看原文：" in ran.texts[0]
