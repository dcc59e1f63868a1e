"""Reading everyday Chinese replies: numbers, yes/no, choices, scores, codes."""

import pytest

from actions.parsing import (
    application_code,
    asks_whether,
    bare_value,
    best_match,
    chinese_to_number,
    commitment_kind,
    commitment_subject,
    find_number,
    is_unsure,
    licence_number,
    material_words,
    parse_answer,
    parse_choice,
    parse_score,
    parse_yes_no,
    same_ending,
    stated_number,
)

ENTITY_TYPE = {
    "id": "entity_type",
    "type": "choice",
    "options": [{"id": "company", "label": "公司（企业）"}, {"id": "individual", "label": "个体工商户"}],
}
PREMISES = {
    "id": "premises",
    "type": "choice",
    "options": [
        {"id": "owned", "label": "自有房产"},
        {"id": "leased", "label": "租赁"},
        {"id": "free_use", "label": "亲友或单位无偿提供"},
        {"id": "no_title", "label": "房屋没有产权证明"},
    ],
}
AREA = {"id": "area", "type": "number", "unit": "平方米", "min": 1, "max": 100000}
HANDLERS = {"id": "food_handlers", "type": "number", "unit": "人", "min": 0, "max": 1000}
TAKEAWAY = {"id": "takeaway", "type": "bool"}
USES_GAS = {"id": "uses_gas", "type": "bool"}
VIA_AGENT = {"id": "via_agent", "type": "bool"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一百二十", 120),
        ("两百", 200),
        ("十五", 15),
        ("三千五", 3500),
        ("一百零五", 105),
        ("两百五", 250),
        ("一二零", 120),
        ("两万", 20000),
        ("二十", 20),
    ],
)
def test_chinese_numerals(text, value):
    assert chinese_to_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200平", 200),
        ("两百多平", 200),
        ("大约100平米", 100),
        ("45㎡", 45),
        ("二十平不到", 20),
        ("一百八十平方", 180),
        ("1200平米左右", 1200),
        ("３个人", 3),
        ("没数字", None),
    ],
)
def test_numbers_in_replies(text, value):
    assert find_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("是的", True),
        ("有", True),
        ("有外卖，美团上", True),
        ("会卖啤酒", True),
        ("/affirm", True),
        ("yes", True),
        ("不是", False),
        ("没有", False),
        ("不卖酒", False),
        ("否", False),
        ("/deny", False),
        ("no", False),
        ("只卖非处方药", True),
        ("嗯嗯", True),
        ("随便问问", None),
    ],
)
def test_yes_no(text, value):
    assert parse_yes_no(text) is value


UNSURE = [
    "不太清楚",
    "不知道",
    "不确定",
    "说不好",
    "还没想好",
    "看情况吧",
    "不懂",
    "不知道怎么选",
    "这个我不是很清楚",
    "说不准，还没定",
    "没想过这个",
    "不一定",
    "啥意思",
    "忘了",
    "不知道用不用燃气",  # the question's own word (燃气) with a 不 before it is still no answer
    "不清楚有没有",  # "没有" here is no count of 0
    "暂时无法确定",  # nor is "无"
    "不知道选哪个，个体户还是公司？",  # naming the options is not picking one
    "not sure",
]


@pytest.mark.parametrize("text", UNSURE)
def test_not_being_sure_answers_no_question(text):
    # "不太清楚" was read as a "no" (because of 不), which silently dropped materials from the checklist.
    assert is_unsure(text)
    assert parse_yes_no(text) is None
    for question in (TAKEAWAY, USES_GAS, VIA_AGENT, ENTITY_TYPE, PREMISES, AREA, HANDLERS):
        assert parse_answer(question, text) == (False, None), question["id"]


@pytest.mark.parametrize(
    ("question", "text"),
    [
        (TAKEAWAY, "不是"),
        (TAKEAWAY, "没有"),
        (TAKEAWAY, "不做外卖"),
        (TAKEAWAY, "没有的"),
        (TAKEAWAY, "没打算做"),
        (TAKEAWAY, "不需要"),
        (USES_GAS, "不用"),
        (USES_GAS, "没有燃气"),
        (VIA_AGENT, "不用代办"),
        ({"id": "sells_alcohol", "type": "bool"}, "不卖"),
    ],
)
def test_a_real_no_is_still_a_no(question, text):
    assert not is_unsure(text)
    assert parse_answer(question, text) == (True, False)


@pytest.mark.parametrize(
    ("text", "value"),
    [("不确定，大概200平吧", 200), ("说不准，估计八十平左右", 80), ("不太清楚，差不多三个人", 3)],
)
def test_an_unsure_estimate_answers_a_number_question(text, value):
    # The hedge is about precision: the estimate is the answer (the applicant can change it later).
    assert is_unsure(text)
    question = AREA if "平" in text else HANDLERS
    assert parse_answer(question, text) == (True, value)
    # To a yes/no or choice question the same words answer nothing.
    assert parse_answer(USES_GAS, text) == (False, None)
    assert parse_answer(PREMISES, text) == (False, None)


def test_being_sure_is_read_as_before():
    assert not is_unsure("忘了说，我们也卖酒")
    assert parse_yes_no("忘了说，我们也卖酒") is True
    assert parse_answer(HANDLERS, "没有") == (True, 0)
    assert parse_answer(PREMISES, "租的") == (True, "leased")
    assert not is_unsure("/deny") and not is_unsure("")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("个体户", "individual"),
        ("公司", "company"),
        ("办有限公司", "company"),
        ("2", "individual"),
        ("第一个", "company"),
        ("个体工商户", "individual"),
        ("随便", None),
        ("3", None),
    ],
)
def test_choices_by_label_word_or_position(text, value):
    assert parse_choice(text, ENTITY_TYPE["options"]) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("租的门面", "leased"),
        ("房子是自己的", "owned"),
        ("自有房产", "owned"),
        ("农村自建房，没有产权证", "no_title"),
        ("亲戚的房子", "free_use"),
        ("自己家的房子", "owned"),
    ],
)
def test_choices_in_everyday_words(text, value):
    assert parse_choice(text, PREMISES["options"]) == value


def test_answers_are_read_against_the_question_asked():
    assert parse_answer(AREA, "两百平左右") == (True, 200)
    assert parse_answer(AREA, "0") == (False, None)  # below the question's minimum
    assert parse_answer(AREA, "不知道") == (False, None)
    assert parse_answer(HANDLERS, "就我一个人") == (True, 1)
    assert parse_answer(HANDLERS, "没有") == (True, 0)
    assert parse_answer(TAKEAWAY, "不做外卖") == (True, False)
    assert parse_answer(ENTITY_TYPE, "yes") == (False, None)
    # A reply in another question's unit is not an answer to this one.
    assert parse_answer(HANDLERS, "40平米") == (False, None)
    assert parse_answer(AREA, "5个人") == (False, None)
    assert parse_answer(HANDLERS, "5个人，店面60平") == (True, 5)
    assert parse_answer(AREA, "60") == (True, 60)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("厨房三个人加我四个", 4),
        ("两个厨师一个服务员，一共三个", 3),
        ("一共四个人", 4),  # the 一 of 一共 is not a count
        ("加上我一共是5个", 5),
        ("总共有十二个", 12),
        ("连我三个", 3),
        ("厨房三个人加上我", 4),
        ("厨师3个，再加我", 4),
        ("前面80平后面120平，总共200平", 200),
        ("5个人，店面60平", 5),
        ("3个人", 3),
        ("没数字", None),
    ],
)
def test_a_stated_total_wins_over_its_parts(text, value):
    assert stated_number(text) == value


def test_counts_are_read_as_totals():
    assert parse_answer(HANDLERS, "厨房三个人加我四个") == (True, 4)
    assert parse_answer(HANDLERS, "厨房三个人，加上我") == (True, 4)
    assert parse_answer(AREA, "大厅一百平，后厨加库房一共一百五十平") == (True, 150)


@pytest.mark.parametrize(
    ("question", "text", "value"),
    [
        # 是否委托他人代为办理: doing it oneself is a no.
        (VIA_AGENT, "自己办", False),
        (VIA_AGENT, "我自己去跑", False),
        (VIA_AGENT, "不用代办，自己办", False),
        (VIA_AGENT, "不是自己办，找代办", True),
        (VIA_AGENT, "委托给中介", True),
        (VIA_AGENT, "没有委托", False),
        (VIA_AGENT, "需要", True),
        # 后厨是否使用燃气: coal, wood or electricity is a no; 煤气 is gas.
        (USES_GAS, "烧煤的", False),
        (USES_GAS, "用蜂窝煤", False),
        (USES_GAS, "全用电磁炉", False),
        (USES_GAS, "不用燃气，烧煤", False),
        (USES_GAS, "烧煤气", True),
        (USES_GAS, "用的液化气罐", True),
        (USES_GAS, "燃气没有", False),
        (USES_GAS, "是", True),
        (USES_GAS, "随便问问", None),
        # Words of one question mean nothing to another.
        (TAKEAWAY, "自己办", None),
    ],
)
def test_everyday_words_answer_the_question_they_belong_to(question, text, value):
    assert parse_answer(question, text) == (value is not None, value)


@pytest.mark.parametrize(
    ("text", "kind", "subject", "asks"),
    [
        ("设施设备清单后面再补可以吗", "later", "设施设备清单", True),
        ("燃气合同用告知承诺", "pledge", "燃气合同", False),
        ("健康证还没办下来", "later", "健康证", False),
        ("等健康证办好了再交", "later", "健康证", False),
        ("燃气合同过几天再交", "later", "燃气合同", False),
        ("先不交设备清单", "later", "设备清单", False),
        ("设备清单承诺代替行不行", "pledge", "设备清单", True),
        ("能不能先承诺", "pledge", "", True),
        # 承诺书 is a material's name, not a promise.
        ("食品安全承诺书晚点交", "later", "食品安全承诺书", False),
        ("承诺书晚点再交可以吗", "later", "承诺书", True),
    ],
)
def test_asking_to_hand_a_material_in_later_or_to_promise(text, kind, subject, asks):
    assert commitment_kind(text) == kind
    assert commitment_subject(text) == subject
    assert asks_whether(text) is asks


def test_everyday_material_names_become_the_catalogs():
    assert material_words("营业场所证明") == "经营场所证明"
    assert material_words("供气合同") == "燃气使用安全证明"
    assert material_words("身份证") == "身份证"
    assert best_match(
        material_words("营业场所证明"),
        [("premises_proof", "经营场所使用证明"), ("premises_layout", "经营场所平面布局图")],
        min_score=0.4,
    ) == ["premises_proof"]


def test_a_material_is_what_its_name_ends_in():
    # "营业场所租赁合同" shares 经营场所 with the layout plan as much as 租赁合同 with the lease.
    items = [("lease_contract", "房屋租赁合同"), ("premises_layout", "经营场所平面布局图")]
    hint = material_words("营业场所租赁合同")
    assert best_match(hint, items, min_score=0.4) == ["lease_contract", "premises_layout"]
    assert same_ending(hint, items) == ["lease_contract"]
    # Without a shared ending nothing is ruled out.
    assert same_ending("租赁合同照片", items) == ["lease_contract", "premises_layout"]


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5分", 5),
        ("五星", 5),
        ("好评", 5),
        ("满意", 4),
        ("一般", 3),
        ("基本满意", 3),
        ("不满意", 2),
        ("两星", 2),
        ("差评", 1),
        ("很不满意", 1),
        ("3", 3),
        ("我要评价", None),
        ("评价一下", None),  # 一 is part of a word here, not a score
        ("有一点建议", None),
        ("给个4分吧", 4),
        ("打三颗星", 3),
        ("5 星", 5),
        ("２", 2),
        ("6分", None),
        ('/rate{"score": "4", "handoff_id": "h-1"}', 4),
        (None, None),
    ],
)
def test_scores(text, score):
    assert parse_score(text) == score


def test_codes_are_normalised():
    assert application_code("查一下zl20250312abc123") == "ZL-20250312-ABC123"
    assert application_code("ZL-20250312-7K3M9Q进度") == "ZL-20250312-7K3M9Q"
    assert licence_number("xk-2026-8k3m9q") == "XK-2026-8K3M9Q"
    assert application_code("没有编码") is None


def test_best_match_prefers_the_named_item():
    items = [("applicant_id", "法定代表人（负责人、经营者）身份证件"), ("premises_proof", "经营场所使用证明")]
    assert best_match("身份证", items) == ["applicant_id"]
    assert best_match("门头照", items) == []


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("address", "地址在兰山区通达路88号", "兰山区通达路88号"),
        ("address", "新地址是兰山区解放路100号", "兰山区解放路100号"),
        ("address", "搬到罗庄区湖东路1号。", "罗庄区湖东路1号"),
        ("address", "兰山区通达路88号", "兰山区通达路88号"),
        ("person", "法人换成王五", "王五"),
        ("person", "新法人是李四", "李四"),
        ("name", "店名改成老王火锅", "老王火锅"),
        ("name", "名字叫新华书店", "新华书店"),
        # a value that merely starts like a prefix is kept whole
        ("name", "新华书店", "新华书店"),
        ("address", "是", "是"),
    ],
)
def test_values_lose_the_words_around_them(kind, text, value):
    assert bare_value(kind, text) == value
