"""The questionnaire's state in the tracker and how its questions read in chat.

The questions are the backend's (``POST /checklists`` returns the ones still unanswered, in the catalog's
order, already filtered by ``ask_if``), so nothing here knows a question by heart. The answers so far live
in the ``checklist_answers`` slot as ``{"package_id": ..., "answers": {question_id: value}}``: answers
belong to one package, and switching industry starts afresh.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.dialogue import Buttons, button
from actions.parsing import best_match, describe_answer

ANSWERS = "checklist_answers"
QUESTION = "checklist_question"
ANSWER = "checklist_answer"


def stored_answers(tracker: Tracker, package_id: str | None) -> dict[str, Any]:
    value = tracker.get_slot(ANSWERS)
    if package_id and isinstance(value, dict) and value.get("package_id") == package_id:
        return dict(value.get("answers") or {})
    return {}


def answers_value(package_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    return {"package_id": package_id, "answers": answers}


def find_question(package: dict[str, Any], question_id: str | None) -> dict[str, Any] | None:
    return next((q for q in package.get("questions", []) if q["id"] == question_id), None)


def answer_buttons(question: dict[str, Any]) -> Buttons:
    """The answers to tap: 是 / 否, or the options; none for a number."""
    if question["type"] == "bool":
        return [button("是", "/affirm"), button("否", "/deny")]
    if question["type"] == "choice":
        # The label is the payload: typed or tapped, the same words reach the validator.
        return [button(option["label"], option["label"]) for option in question.get("options", [])]
    return []


def prompt(question: dict[str, Any], *, number: int, total: int) -> tuple[str, Buttons]:
    """The question as sent: its text, what kind of reply fits, and buttons where there are choices."""
    lines = [f"（第 {number} 题，共约 {total} 题）{question['text']}"]
    if question["type"] == "number":
        unit = question.get("unit") or ""
        lines.append(f"请直接回复数字{('（单位：' + unit + '）') if unit else ''}，估算即可。")
    if question.get("help"):
        lines.append(f"提示：{question['help']}")
    return "\n".join(lines), answer_buttons(question)


# How the reply to an unsure answer begins; the form's next ask looks for it so as not to ask twice.
UNSURE_OPENING = "没关系，拿不准很正常"

# What one possible answer would add to the checklist that the others do not: (the answer as shown, the
# licences it brings, the materials it brings). For a number, its smallest and largest allowed values.
Effects = list[tuple[str, list[str], list[str]]]


def unsure_reply(question: dict[str, Any], effects: Effects) -> tuple[str, Buttons]:
    """Said when the applicant is not sure ("不太清楚"): the question stays open, and they learn what it
    asks, what each answer would mean for them, and that a person can help decide."""
    lines = [
        f"{UNSURE_OPENING}，这一题先空着，弄清楚了再回答就行。",
        f"这题问的是：{question['text']}",
    ]
    if question.get("help"):
        lines.append(str(question["help"]))
    guide = _plain_meaning(question)
    if guide:
        lines.append(guide)
    lines += _effect_lines(question, effects)
    if question["type"] == "number":
        lines.append("您可以估一个大概的数直接回复；如果还是拿不准，可以转人工，请工作人员帮您判断。")
    else:
        lines.append("您可以确认后直接回复；如果还是拿不准，可以转人工，请工作人员帮您判断。")
    return "\n".join(lines), [*answer_buttons(question), button("转人工", "/request_human")]


def _plain_meaning(question: dict[str, Any]) -> str:
    """The question put as a rule of thumb, for questions whose catalog entry explains nothing more."""
    kind = question["type"]
    if kind == "number":
        return "不用很精确，之后发现不准，随时告诉我改就行。"
    if question.get("help"):
        return ""
    if kind == "choice":
        return "按实际情况，选最接近的一项就可以。"
    asked = question["text"].rstrip("？?")
    if "是否" in asked:
        subject, predicate = asked.split("是否", 1)
        return f"如果{subject}{predicate}，就选“是”；否则选“否”。按开业后的实际打算回答即可。"
    return "符合的选“是”，不符合的选“否”。"


def _names(names: list[str], limit: int = 4) -> str:
    # In brackets, as materials are named elsewhere: a name may hold a "、" itself (董事、监事、经理任职文件).
    shown = "".join(f"【{name}】" for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}等 {len(names)} 项"


def _effect_lines(question: dict[str, Any], effects: Effects) -> list[str]:
    if not any(licences or materials for _, licences, materials in effects):
        return []
    if question["type"] == "number":
        licences = list(dict.fromkeys(name for _, names, _ in effects for name in names))
        materials = list(dict.fromkeys(name for _, _, names in effects for name in names))
        if licences:
            # The licences are what a person weighs; a dozen material names would bury them.
            also = "，以及相应的材料" if materials else ""
            return [f"这个数字会影响要办哪些证照：{_names(licences)}{also}。"]
        return [f"这个数字会影响是否需要：{_names(materials)}。"]
    lines = ["不同的回答，要办的证照和材料也不一样："]
    for answer, licences, materials in effects:
        needs = [
            *([f"还要办理{_names(licences)}"] if licences else []),
            *([("并准备" if licences else "要准备") + _names(materials)] if materials else []),
        ]
        lines.append(f"· 选“{answer}”：" + ("，".join(needs) if needs else "不需要这些") + "。")
    return lines


def reprompt(
    question: dict[str, Any], reply: str, *, again: bool, choose: str = "点按钮或回复对应的文字"
) -> str:
    """Said when a reply does not answer the question; the question itself is asked again right after.
    `choose`: how options are picked on the person's channel (``dialogue.how_to_choose``)."""
    kind = question["type"]
    if kind == "bool":
        hint = "请回复“是”或“否”。"
    elif kind == "choice":
        labels = "、".join(f"“{o['label']}”" for o in question.get("options", []))
        hint = f"请从 {labels} 中选一个，{choose}都可以。"
    else:
        low, high, unit = question.get("min"), question.get("max"), question.get("unit") or ""
        bounds = f"（{low}～{high}{unit}）" if low is not None and high is not None else ""
        hint = f"请回复一个数字{bounds}，例如 120。"
    shown = reply if len(reply) <= 20 else reply[:20] + "…"
    text = f"抱歉，我没看懂“{shown}”这个回答。{hint}"
    if again:
        text += "如果不方便回答，可以回复“转人工”，或回复“算了”先停止填写。"
    return text


def summary(package: dict[str, Any], answers: dict[str, Any]) -> list[str]:
    """The answers read back, so a wrong one is easy to spot and correct."""
    lines = []
    for question in package.get("questions", []):
        if question["id"] in answers:
            label = question["text"].rstrip("？?")
            lines.append(f"· {label}：{describe_answer(question, answers[question['id']])}")
    return lines


# Everyday words that point at a question when someone corrects an answer ("不对，我们不卖酒"). Keys are
# catalog question ids; a question without words here is still found by its own text.
CORRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "area": ("面积", "平米", "平方"),
    "entity_type": ("个体", "公司", "企业"),
    "premises": ("租", "自有", "产权", "房子", "场所"),
    "food_handlers": ("员工", "人员", "几个人", "从业", "人数", "人手", "店员", "伙计", "厨师"),
    "sells_alcohol": ("酒",),
    "sells_tobacco": ("烟",),
    "takeaway": ("外卖",),
    "online_sales": ("网上", "网店", "线上", "淘宝", "美团", "饿了么", "小程序", "直播"),
    "cold_dishes": ("凉菜", "生食", "裱花", "生鱼片"),
    "uses_gas": ("燃气", "煤气", "天然气", "液化气"),
    "prepackaged_only": ("预包装", "包装好", "散装", "散卖"),
    "onsite_processing": ("现场制作", "现做", "现场做", "熟食", "烘焙"),
    "central_ac": ("空调",),
    "via_agent": ("代办", "帮办", "委托"),
    "otc_b_only": ("非处方", "处方", "乙类"),
    "sells_medical_devices": ("医疗器械", "血压计", "血糖仪"),
    "sells_health_food": ("保健食品",),
}


def question_for_correction(
    text: str, package: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any] | None:
    """Which answered question a correction is about, or None when it cannot be told."""
    answered = [q for q in package.get("questions", []) if q["id"] in answers]
    hits = [q for q in answered if any(word in text for word in CORRECTION_WORDS.get(q["id"], ()))]
    if len(hits) == 1:
        return hits[0]
    pool = hits or answered
    keys = best_match(text, [(q["id"], q["text"]) for q in pool])
    if len(keys) == 1:
        return next(q for q in pool if q["id"] == keys[0])
    return None
