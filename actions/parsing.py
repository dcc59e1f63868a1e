"""Reading what people type: numbers in digits or Chinese numerals, yes/no, a choice among options, a 1–5
score. Pure functions, so the questionnaire's understanding is tested without a server.

Applicants write "两百平", "一百二十平米", "200㎡左右", "3个人", "是的", "不卖", "个体户"; NLU extracts
entities for some of these, but the questionnaire also asks questions NLU has never seen, so the
answer text itself is read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

_DIGITS = {
    **dict.fromkeys("零〇", 0), **dict.fromkeys("一壹", 1), **dict.fromkeys("二两贰", 2),
    **dict.fromkeys("三叁", 3), **dict.fromkeys("四肆", 4), **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆", 6), **dict.fromkeys("七柒", 7), **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}  # fmt: skip
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_CHINESE_NUMBER = re.compile(f"[{''.join(_DIGITS)}{''.join(_UNITS)}{''.join(_BIG_UNITS)}]+")
_ARABIC_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
# "十来个" / "二十多" / "一百多平" — the number before the vagueness is what counts.
_VAGUE = re.compile(r"[来多余几]")


def chinese_to_number(text: str) -> int | None:
    """'一百二十' → 120, '两百' → 200, '十五' → 15, '三千五' → 3500, '一二零' → 120; None if unreadable."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS and ch not in _BIG_UNITS for ch in text):
        return None
    if all(ch in _DIGITS for ch in text):  # read digit by digit: "一二零"
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    last_unit, zero_seen = 1, False
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            zero_seen = zero_seen or digit == 0
        elif ch in _UNITS:
            unit = _UNITS[ch]
            section += (1 if digit is None else digit) * unit
            last_unit, zero_seen = unit, False
            digit = None
        else:  # 万 / 亿
            section += digit or 0
            total += section * _BIG_UNITS[ch]
            section, digit, last_unit, zero_seen = 0, None, _BIG_UNITS[ch], False
    if digit is not None:
        # "三千五" means 3500, "两百五" 250: a trailing digit counts one unit below the last one,
        # unless a 零 says the places in between are empty ("一百零五" is 105).
        section += digit * (last_unit // 10 if last_unit >= 100 and not zero_seen else 1)
    return total + section


def find_number(text: str) -> float | None:
    """The first number in a reply, in digits or Chinese numerals."""
    text = text.translate(_FULLWIDTH)
    candidates: list[tuple[int, float]] = []
    if match := _ARABIC_NUMBER.search(text):
        candidates.append((match.start(), float(match.group())))
    for match in _CHINESE_NUMBER.finditer(text):
        value = chinese_to_number(match.group())
        if value is not None:
            candidates.append((match.start(), float(value)))
            break
    if not candidates:
        return None
    return min(candidates)[1]


# A count said as a total wins over the parts before it: "厨房三个人加我四个" is 4, "两个厨师一个服务员，一共
# 三个" is 3. Longest first, so "加上我" is not read as "加" + "上我".
_TOTAL = re.compile(
    r"一共|总共|总计|合计|共计|加起来|算起来|加上我|算上我|连同我|包括我|加我|连我|含我|带我|共"
)
# Between the total word and its number: "一共是四个", "加上我就五个".
_TOTAL_FILLER = re.compile(r"^[\s，,：:是有就才算为也]*")
# The speaker added to a count with no total after it: "三个人加我" is 4.
_PLUS_ME = re.compile(r"(?:再?加上?|算上|还有|外加)我(?:自己|本人)?[\s。.！!]*$")


def stated_number(text: str) -> float | None:
    """The number a reply states: the total when it names one ("三个人加我四个" → 4, "三个人加上我" → 4),
    else the first number."""
    text = text.translate(_FULLWIDTH)
    for marker in reversed(list(_TOTAL.finditer(text))):
        rest = _TOTAL_FILLER.sub("", text[marker.end() :], count=1)
        if _ARABIC_NUMBER.match(rest) or _CHINESE_NUMBER.match(rest):
            return find_number(rest)
    plus_me = _PLUS_ME.search(text)
    if plus_me:
        counted = find_number(text[: plus_me.start()])
        if counted is not None:
            return counted + 1
    return find_number(text)


def as_number_value(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


# --- not sure ---------------------------------------------------------------------------------------------

# "不太清楚", "不知道怎么选", "还没想好", "看情况吧": the applicant does not know yet. These hold 不 or 没
# but are no "no", and name no option or number either: reading them as one would hand over a wrong
# checklist. Real refusals ("不是", "没有", "不卖", "不用", "没打算") stay out.
_UNSURE = re.compile(
    r"不(?:太|大|很|是很|是太)?(?:清楚|知道|确定|了解|明白|懂|晓得|好说|一定)|不知|不清|"
    r"说不[好准清定上来]|讲不[好清准]|拿不[准定]|吃不准|把握不[准好]|[搞弄闹]不[清懂明]|"
    r"没有?(?:想|考虑|弄|搞|问|看)(?:好|清楚|明白|懂|过)|没懂|没明白|没概念|"
    r"还?没有?(?:决定|确定|定下?来?|想好)|还在考虑|考虑一下|考虑考虑|再想想|想一想|"
    r"看情况|看具体|视情况|难说|待定|未定|不好判断|(?:无法|没法|没办法|不能|不敢)(?:确定|判断|肯定)|确定不了|"
    r"忘了(?!说|讲|告诉|提)|忘记了?(?!说|讲|告诉|提)|记不[清得住]|"
    r"什么意思|啥意思|怎么[选答填算]|选哪|不会[选填]|可能吧|也许吧|或许吧|"
    r"notsure|unsure|dontknow|noidea|idk"
)


# "不确定，大概200平吧": unsure of the exact figure, but an estimate is an answer to a number question (the
# checklist only compares it with thresholds, and the applicant can change it later).
_ESTIMATE = re.compile(
    r"大概|大约|大致|差不多|估计|估摸|约|左右|上下|来[平个人]|多[平个人]|将近|接近|不到|出头"
)


def is_estimate(text: str | None) -> bool:
    """'不确定，大概200平吧' → True: a number with a word that makes it an estimate."""
    cleaned = str(text or "")
    return bool(_ESTIMATE.search(cleaned)) and stated_number(cleaned) is not None


def answers_nothing(question: dict[str, Any], text: str | None) -> bool:
    """An unsure reply answers nothing, except an estimate to a number question."""
    return is_unsure(text) and not (question.get("type") == "number" and is_estimate(text))


def is_unsure(text: str | None) -> bool:
    """'不太清楚' / '不知道怎么选' / '还没想好' / '看情况吧' → True: the reply answers nothing, whatever the
    question."""
    cleaned = re.sub(r"[\s'’]", "", str(text or "")).lower()
    return not cleaned.startswith("/") and bool(_UNSURE.search(cleaned))


# --- yes / no ---------------------------------------------------------------------------------------------

_NEGATIONS = ("不", "没", "无", "否", "别")
# "好" and "行" are left out: "你好" is a greeting, not a yes (NLU's affirm intent covers "好的").
_YES_WORDS = ("是", "有", "对", "会", "要", "卖", "用", "需要", "确认", "嗯")
_ENGLISH = {"yes": True, "y": True, "ok": True, "true": True, "/affirm": True,
            "no": False, "n": False, "false": False, "/deny": False}  # fmt: skip
_NEGATED_PARTS = ("非处方", "无线", "无人")  # "非" / "无" inside a name is not a "no"


def parse_yes_no(text: str) -> bool | None:
    """'是的' / '有' / '会卖' → True; '不是' / '没有' / '不卖' / '否' → False; None when unclear or unsure
    ('不清楚')."""
    cleaned = text.strip().lower()
    if cleaned in _ENGLISH:
        return _ENGLISH[cleaned]
    if cleaned.startswith("/") or is_unsure(cleaned):
        return None
    for part in _NEGATED_PARTS:
        cleaned = cleaned.replace(part, "")
    if any(word in cleaned for word in _NEGATIONS):
        return False
    if any(word in cleaned for word in _YES_WORDS):
        return True
    return None


# --- choices ----------------------------------------------------------------------------------------------

# Everyday words for catalog options (option labels are official: "个体工商户", "租赁"). Keys are option
# ids in config/catalog/questions.yaml; an unknown id simply has no extra words.
CHOICE_WORDS: dict[str, tuple[str, ...]] = {
    "company": ("公司", "企业", "有限", "法人"),
    "individual": ("个体", "个人", "自己干", "夫妻"),
    "owned": ("自有", "自己的", "自家", "自己家", "自个家", "买的", "产权是我"),
    "leased": ("租",),
    "free_use": ("无偿", "亲戚", "朋友", "单位提供", "借"),
    "no_title": ("没有产权", "没产权", "无产权", "自建", "没有房产证", "没房产证"),
    "passenger": ("客运",),
    "freight": ("货运", "货"),
}


def _normalise(text: str) -> str:
    return re.sub(r"[\s（）()，,。.、:：“”\"'!！?？]", "", text).lower()


def parse_choice(text: str, options: Sequence[dict[str, Any]]) -> str | None:
    """The option id a reply picks: its label, its id, its number in the list, or an everyday word."""
    cleaned = _normalise(text)
    if not cleaned:
        return None
    # "2" or "第二个": the position in the list shown (WeChat buttons become numbered replies).
    number = find_number(cleaned)
    if number is not None and cleaned.strip("第个项选号") in {str(int(number)), _chinese_digit(int(number))}:
        index = int(number) - 1
        return str(options[index]["id"]) if 0 <= index < len(options) else None
    for option in options:
        if cleaned in (_normalise(option["label"]), option["id"].lower()):
            return str(option["id"])
    # Longest match first: "没有产权证明" must beat "产权".
    scored: list[tuple[int, str]] = []
    for option in options:
        words = [_normalise(option["label"]), *CHOICE_WORDS.get(option["id"], ())]
        for word in words:
            if word and word in cleaned:
                scored.append((len(word), str(option["id"])))
    if not scored:
        # The label's core without qualifiers: "公司（企业）" → "公司".
        for option in options:
            core = re.split(r"[（(]", option["label"])[0]
            if core and _normalise(core) in cleaned:
                scored.append((len(core), str(option["id"])))
    if not scored:
        return None
    scored.sort(reverse=True)
    best = [option for length, option in scored if length == scored[0][0]]
    return best[0] if len(set(best)) == 1 else None


def _chinese_digit(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else ""


# --- the questionnaire's answers -------------------------------------------------------------------------


def parse_answer(question: dict[str, Any], text: str) -> tuple[bool, Any]:
    """(True, value) when `text` answers `question` (a catalog question), else (False, None). An unsure
    reply answers nothing ("不清楚" is no 0 people, "不知道选哪个" no option), but an estimate does
    ("不确定，大概200平" is 200)."""
    if answers_nothing(question, text):
        return (False, None)
    kind = question.get("type")
    if kind == "bool":
        value = question_yes_no(str(question.get("id") or ""), text)
        if value is None:
            value = parse_yes_no(text)
        return (value is not None, value)
    if kind == "choice":
        choice = parse_choice(text, question.get("options") or [])
        return (choice is not None, choice)
    if kind == "number":
        if _names_another_unit(question.get("unit"), text):
            return (False, None)
        number = stated_number(text)
        if number is None:
            if any(word in text for word in ("没有", "无", "零")) and (question.get("min") or 0) <= 0:
                return (True, 0)
            if any(word in text for word in ("就我", "只有我", "我自己", "我一个")):
                return (True, 1)
            return (False, None)
        low, high = question.get("min"), question.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            return (False, None)
        return (True, as_number_value(number))
    return (False, None)


# Everyday answers that are a yes or a no to one question only. Keys are catalog question ids
# (config/catalog/questions.yaml); for each, the words naming what is asked about (a yes, unless
# negated right there: "不用代办", "没有燃气") and the words naming its alternative (a no: to 是否委托代办,
# "自己办" means the applicant does it; to 后厨是否使用燃气, "烧煤的" means coal, not gas).
BOOL_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "via_agent": (
        ("代办", "帮办", "委托", "找人办", "找人帮", "中介"),
        ("自己办", "自己来", "自己跑", "自己去", "亲自", "本人办", "我自己", "本人去"),
    ),
    "uses_gas": (
        ("燃气", "煤气", "天然气", "液化气", "液化石油气", "气罐", "管道气"),
        ("烧煤", "用煤", "煤炭", "蜂窝煤", "煤球", "煤炉", "电磁炉", "用电", "全电", "电的", "烧柴", "柴火",
         "木炭", "炭火", "电炉"),
    ),
}  # fmt: skip
_NEGATED_BEFORE = re.compile(r"(?:不|没|无|别)[^，,。；;]{0,2}$")
_NEGATED_AFTER = re.compile(r"^[^，,。；;]{0,1}(?:不|没|无)")


def question_yes_no(question_id: str, text: str) -> bool | None:
    """A yes or no read through the words of one question (BOOL_WORDS); None when they do not decide."""
    words = BOOL_WORDS.get(question_id)
    if words is None:
        return None
    cleaned = re.sub(r"\s", "", text).lower()  # punctuation kept: it ends a negation's reach
    yes_words, no_words = words
    for word in sorted(yes_words, key=len, reverse=True):
        at = cleaned.find(word)
        if at >= 0:
            before, after = cleaned[:at], cleaned[at + len(word) :]
            return not (_NEGATED_BEFORE.search(before) or _NEGATED_AFTER.search(after))
    if any(word in cleaned for word in no_words):
        return False
    return None


# The words a number's unit comes as, by a question's unit. A reply in another question's unit answers that
# one, not this: "40平米" to 从业人员有几人 is not 40 people.
_UNIT_WORDS = {"平方米": ("平", "㎡"), "人": ("人", "名", "位"), "辆": ("辆", "台")}


def _names_another_unit(unit: str | None, text: str) -> bool:
    own = _UNIT_WORDS.get(unit or "", ())
    if not own or any(word in text for word in own):
        return False
    return any(word in text for other, words in _UNIT_WORDS.items() if other != unit for word in words)


def describe_answer(question: dict[str, Any], value: Any) -> str:
    """How an answer reads back to the applicant: '是' / '个体工商户' / '200 平方米'."""
    kind = question.get("type")
    if kind == "bool":
        return "是" if value else "否"
    if kind == "choice":
        for option in question.get("options") or []:
            if option["id"] == value:
                return str(option["label"])
        return str(value)
    if kind == "number":
        unit = question.get("unit") or ""
        return f"{as_number_value(float(value))}{' ' + unit if unit else ''}"
    return str(value)


# --- ratings ----------------------------------------------------------------------------------------------

_SCORE_WORDS = (
    (("非常满意", "满分", "五星好评", "好评", "很满意", "特别满意", "超赞"), 5),
    (("很不满意", "非常不满意", "极差", "太差", "差评"), 1),
    (("不满意", "不太满意"), 2),
    (("一般", "基本满意", "还行", "凑合", "马马虎虎"), 3),
    (("满意", "不错", "挺好"), 4),
)


_SCORE_PAYLOAD = re.compile(r'^/\w+\{.*"score"\s*:\s*"?([1-5])\b')
_SCORE_NUMBER = re.compile(r"(?:打|给|评)?个?([0-9０-９一二两三四五])")
_SCORED_NUMBER = re.compile(r"([0-9０-９一二两三四五])\s*(?:分|颗星|星)")


def parse_score(text: str | None) -> int | None:
    """'5分' / '五星' / '4' / '满意' → 1..5; None when there is no score."""
    if not text:
        return None
    if payload := _SCORE_PAYLOAD.search(str(text)):  # a tapped button: /rate{"score": "4", …}
        return int(payload.group(1))
    cleaned = _normalise(str(text))
    # Words first: "一般" holds the numeral 一 but means 3.
    for words, score in _SCORE_WORDS:
        if any(word in cleaned for word in words):
            return score
    # A number is a score when it is the whole reply or carries its unit ("3", "4分", "两颗星"); elsewhere a
    # numeral is part of a word ("评价一下", "一点建议").
    match = _SCORE_NUMBER.fullmatch(cleaned) or _SCORED_NUMBER.search(cleaned)
    number = find_number(match.group(1)) if match else None
    if number is not None and 1 <= number <= 5 and float(number).is_integer():
        return int(number)
    return None


# --- free-text values ------------------------------------------------------------------------------------

# What people put around the value itself: "店名叫老王火锅", "法人是李四", "地址在兰山区…", and when they
# change it, "新地址是…", "法人换成王五", "搬到解放路100号".
_CHANGED = r"要?改成|改为|换成|变更为|变成|搬到|搬去"
_VALUE_PREFIXES = {
    "name": re.compile(
        r"^(?:我们?的?)?(?:新的?)?(?:店名|店铺名称|名称|名字|企业名称|公司名称|字号)?(?:就|暂定)?"
        rf"(?:叫做|叫|是|为|{_CHANGED}|：|:)+"
    ),
    "person": re.compile(
        r"^(?:新的?)?(?:法定代表人|法人代表|法人|负责人|经营者|老板|姓名|名字)?"
        rf"(?:就|是|叫|为|{_CHANGED}|：|:)+"
    ),
    "address": re.compile(
        rf"^(?:新的?)?(?:经营)?(?:地址|场所|住所|店面|门面)?(?:就|是|在|为|{_CHANGED}|：|:)+"
    ),
}


def bare_value(kind: str, value: Any) -> str:
    """A name ("name"), a person's name ("person") or an address ("address") without the words around it;
    the whole text when nothing would be left."""
    text = str(value or "").strip().strip("。.，,！!")
    return _VALUE_PREFIXES[kind].sub("", text).strip() or text


# --- naming materials ------------------------------------------------------------------------------------

# Everyday words for the catalog's words in material names (config/catalog/materials.yaml): "营业场所证明" is
# the 经营场所使用证明, "供气合同" the 燃气使用安全证明.
MATERIAL_WORDS = (
    ("营业场所", "经营场所"),
    ("店面", "经营场所"),
    ("门面", "经营场所"),
    ("铺面", "经营场所"),
    ("供气合同", "燃气使用安全证明"),
    ("燃气合同", "燃气使用安全证明"),
    ("煤气合同", "燃气使用安全证明"),
)


def material_words(hint: str) -> str:
    """A material as the applicant names it, in the catalog's words."""
    for everyday, catalog in MATERIAL_WORDS:
        hint = hint.replace(everyday, catalog)
    return hint


# --- handing a material in later, or promising instead -----------------------------------------------------

# 告知承诺: a promise stands in for the material ("承诺书" is a material's name, not a promise).
_PLEDGE = re.compile(r"告知承诺|承诺(?!书)|保证书?代替|签个?保证")
# 容缺后补: the material comes after acceptance.
_LATER = re.compile(
    r"容缺|后补|再补|补交|晚[点些一]|迟[点些一]|以后[交给发传]|后面[交给发传]|回头[交给发传]|过[几两]天|"
    r"过段时间|等.{0,6}(?:下来|办好|出来|签好|拿到)|先不[交给发传]|还没[有办拿签弄]"
)


def commitment_kind(text: str | None) -> str | None:
    """What the applicant asks for instead of handing a material in now: 'pledge' (告知承诺), 'later'
    (容缺后补), or None when the words say neither (or both)."""
    said = str(text or "")
    pledge, later = bool(_PLEDGE.search(said)), bool(_LATER.search(said))
    if pledge == later:
        return None
    return "pledge" if pledge else "later"


_ASKS = re.compile(r"[吗呢？?]|能不能|可不可以|行不行|能否|是否|可以不")


def asks_whether(text: str | None) -> bool:
    """A question ("…后面再补可以吗") rather than a decision ("…过几天再交")."""
    return bool(_ASKS.search(str(text or "")))


_AROUND_A_MATERIAL = re.compile(
    r"告知承诺|承诺(?!书)|保证书?代替|容缺|后补|再补|补交|晚[点些一]|迟[点些一]|过[几两]天|过段时间|"
    r"下来|办好|出来|签好|拿到|还没有?|先不|代替|可以吗|可不可以|行不行|能不能|能否|行吗|好吗|可以|后面|以后|回头|"
    r"这个|那个|这份|那份|材料|[吗呢吧啊呀我你们想要先用选办的了就再交给发传补等]"
)


def commitment_subject(text: str | None) -> str:
    """The words naming the material in a request to hand it in later or promise instead:
    "设施设备清单后面再补可以吗" → "设施设备清单"; empty when none are left."""
    return _AROUND_A_MATERIAL.sub("", _normalise(str(text or "")))


# --- identifiers -----------------------------------------------------------------------------------------

_PHONE = re.compile(r"1[3-9]\d{9}")


def phone_number(text: str | None) -> str | None:
    """A mobile number in the text, however it is spaced ("139 1234 5678"), or None."""
    match = _PHONE.search(re.sub(r"[\s-]", "", str(text or "")))
    return match.group() if match else None


_CODE = re.compile(r"zl-?(\d{8})-?([0-9a-z]{6})", re.IGNORECASE)
_LICENCE = re.compile(r"xk-?(\d{4})-?([0-9a-z]{6})", re.IGNORECASE)


def application_code(text: str | None) -> str | None:
    """'zl20250312abc123' → 'ZL-20250312-ABC123' (the backend accepts any case, with or without dashes)."""
    match = _CODE.search(text or "")
    return f"ZL-{match.group(1)}-{match.group(2).upper()}" if match else None


def licence_number(text: str | None) -> str | None:
    match = _LICENCE.search(text or "")
    return f"XK-{match.group(1)}-{match.group(2).upper()}" if match else None


def same_ending(query: str, candidates: Iterable[tuple[str, str]]) -> list[str]:
    """Keys of the candidates (equally good matches for `query`) whose text ends most like it. A Chinese
    name ends in what the thing is: "营业场所租赁合同" is a 租赁合同, so it means 房屋租赁合同, not
    经营场所平面布局图. All the keys when no two characters of ending are shared."""
    query = _normalise(query)
    scored = [(_shared_ending(query, _normalise(text)), key) for key, text in candidates]
    top = max((score for score, _ in scored), default=0)
    return [key for score, key in scored if score == top or top < 2]


def _shared_ending(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def best_match(query: str, candidates: Iterable[tuple[str, str]], *, min_score: float = 0.0) -> list[str]:
    """Keys of the candidates whose text shares the most characters with `query` (ties all returned).

    Used to find the checklist item an applicant names: "租赁合同" against "经营场所使用证明：…租赁合同…".
    Single characters are weak evidence, so the score counts shared bigrams and substrings.
    """
    query = _normalise(query)
    if not query:
        return []
    grams = {query[i : i + 2] for i in range(len(query) - 1)} or {query}
    scored: list[tuple[float, str]] = []
    for key, text in candidates:
        norm = _normalise(text)
        score = float(sum(1 for gram in grams if gram in norm)) / len(grams)
        if query in norm:
            score += 1.0
        elif len(query) >= 2 and _is_subsequence(query, norm):
            # "房产证" in "房屋产权证明", "法人身份证" in "法定代表人…身份证件": abbreviations keep the order.
            score += 0.8
        if score > min_score:
            scored.append((score, key))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [key for score, key in scored if score == top]
