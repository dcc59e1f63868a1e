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


def prompt(question: dict[str, Any], *, number: int, total: int) -> tuple[str, Buttons]:
    """The question as sent: its text, what kind of reply fits, and buttons where there are choices."""
    lines = [f"（第 {number} 题，共约 {total} 题）{question['text']}"]
    buttons: Buttons = []
    kind = question["type"]
    if kind == "bool":
        buttons = [button("是", "/affirm"), button("否", "/deny")]
    elif kind == "choice":
        # The label is the payload: typed or tapped, the same words reach the validator.
        buttons = [button(option["label"], option["label"]) for option in question.get("options", [])]
    else:
        unit = question.get("unit") or ""
        lines.append(f"请直接回复数字{('（单位：' + unit + '）') if unit else ''}，估算即可。")
    if question.get("help"):
        lines.append(f"提示：{question['help']}")
    return "\n".join(lines), buttons


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
