"""Backend event → the notice a person receives. One row per event type (`NOTICES`).

A notice has the full wording for chat channels (customer-service messages, the web poll queue) and short
`fields` for WeChat template / mini-program subscribe messages, whose keyword values are ≤ 20 characters.
Payload keys follow docs/backend-api.md; missing keys degrade to shorter wording, never to an error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.backend_client import Event
from bot.messages import Button, Buttons, Image, Message, Text

TEMPLATE_VALUE_MAX = 20
# The names of the scores, read by the assistant and the backend's console too, so all say the same words.
RATINGS_FILE = Path(__file__).resolve().parent.parent / "config" / "ratings.yaml"
RATE_COMMAND = "/rate"
WEEKDAYS = "一二三四五六日"
RATE_HANDOFF = "请您为本次人工服务打个分（1–5 分，5 分为非常满意）："
RATE_LICENCE = "请您为这次办证服务打个分（1–5 分，5 分为非常满意）："


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    messages: list[Message]
    fields: dict[str, str] = field(default_factory=dict)


def clip(value: str, limit: int = TEMPLATE_VALUE_MAX) -> str:
    """WeChat's keyword rule: ≤ 20 characters and no line breaks."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _when(event: Event) -> str:
    try:
        return datetime.fromisoformat(str(event.created_at)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return datetime.now().strftime("%Y-%m-%d %H:%M")


def _code(event: Event) -> str:
    return event.application_code or str(event.payload.get("application_code") or "")


def _notice(event: Event, title: str, text: str, *extra: Message, **fields: str) -> Notice:
    summary = {
        "title": title,
        "application_code": _code(event),
        "status": title,
        "detail": text.splitlines()[0] if text else title,
        "time": _when(event),
        **fields,
    }
    return Notice(title, [Text(text), *extra], {k: clip(v) for k, v in summary.items() if v})


@functools.cache
def score_names() -> tuple[tuple[int, str], ...]:
    """(1, "非常不满意") … (5, "非常满意"), from config/ratings.yaml."""
    scores = yaml.safe_load(RATINGS_FILE.read_text(encoding="utf-8"))["scores"]
    return tuple((score, str(scores[score])) for score in range(1, 6))


def rating_prompt(text: str, **subject: str) -> Buttons:
    """Score buttons whose payloads the assistant's rating action reads: `/rate{"score": "5", <subject>}`.
    Ascending, as on WeChat each is numbered by its score (`score_of`) and the menu reads 1 to 5."""
    return Buttons(
        text,
        tuple(
            Button(
                f"{score}分 {name}",
                RATE_COMMAND + json.dumps({"score": str(score), **subject}, ensure_ascii=False),
            )
            for score, name in score_names()
        ),
    )


def score_of(payload: str) -> int | None:
    """The score a rating button gives, ours or the assistant's (`/rate{"score": "5", …}` → 5); else None."""
    if not payload.startswith(RATE_COMMAND + "{"):
        return None
    try:
        entities = json.loads(payload.removeprefix(RATE_COMMAND))
        score = int(entities["score"])
    except (ValueError, TypeError, KeyError):
        return None
    return score if 1 <= score <= 5 else None


def _accepted(event: Event) -> Notice:
    p = event.payload
    tasks = p.get("tasks")
    # Where registration comes first the other departments wait for it (task status `waiting`).
    statuses = [t.get("status") for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []
    waiting = "waiting" in statuses
    order = "营业执照登记完成后，其他部门再同步审批" if waiting else "各部门将同步审批"
    lines = [f"您的申请已受理，{order}。", f"统一编码：{_code(event)}"]
    if p.get("promised_days"):
        lines.append(f"承诺办结时限：{p['promised_days']} 个工作日")
    if p.get("due_date"):
        lines.append(f"预计办结日期：{p['due_date']}")
    lines.append("可随时回复“办理进度”查看。")
    return _notice(event, "申请已受理", "\n".join(lines), status="已受理")


def _problems(payload: dict[str, Any]) -> list[str]:
    notice = payload.get("correction_notice")
    items = payload.get("problems") or payload.get("items")
    if isinstance(notice, dict):
        items = items or notice.get("items") or notice.get("problems")
    lines = []
    for item in items or []:
        if isinstance(item, dict):
            name = item.get("material_name") or item.get("name") or item.get("material_id") or "材料"
            problem = item.get("problem") or item.get("reason") or "需要补充"
            lines.append(f"{name}：{problem}")
        else:
            lines.append(str(item))
    if not lines and isinstance(notice, str):
        lines.append(notice)
    return lines


def _correction(event: Event) -> Notice:
    problems = _problems(event.payload)
    lines = [f"您的申请（{_code(event)}）需要补正，请按以下要求补充材料："]
    lines += [f"{i}. {line}" for i, line in enumerate(problems, 1)] or ["详情请回复“办理进度”查看。"]
    lines.append("补齐后发送照片即可，我们会一次性告知全部问题，不会让您反复跑。")
    picture = event.payload.get("notice_url")
    return _notice(
        event,
        "材料需补正",
        "\n".join(lines),
        *([Image(str(picture))] if picture else []),
        status="需补正",
        detail=problems[0] if problems else "请补正材料",
    )


def day_with_weekday(value: str) -> str:
    """2026-12-05 → 12月5日（周六）; anything else unchanged."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def _decided(event: Event) -> Notice:
    p = event.payload
    if p.get("decision") == "reject" and p.get("application_status") == "rejected":
        # The refusal decides the application: its `application.rejected` notice says all of it, once.
        return Notice(f"{p.get('licence_name') or ''}不予许可", [])
    department = str(p.get("department_name") or "审批部门")
    # Several departments decide in parallel, one of them possibly on two matters: each notice names its own.
    licence = str(p.get("licence_name") or "")
    label = str(p.get("status_label") or p.get("decision") or "已处理")
    lines = [f"【{department}】{licence}：{label}" if licence else f"【{department}】{label}"]
    inspection = str(p.get("inspection_date") or "") if p.get("status") == "inspection_scheduled" else ""
    if inspection:
        lines.append(f"现场核查安排在 {day_with_weekday(inspection)}，届时请在经营场所配合核查。")
    if p.get("reason"):
        lines.append(f"说明：{p['reason']}")
    lines.append(f"统一编码：{_code(event)}")
    return _notice(
        event,
        f"{licence}{label}" if licence else f"{department}{label}",
        "\n".join(lines),
        status=label,
        department=department,
        detail=f"{day_with_weekday(inspection)}现场核查" if inspection else str(p.get("reason") or label),
    )


REAPPLY_COMMAND = "/reapply"
REAPPLY_HINT = (
    "下一步：请按{basis}整改。整改好后回复“重新申请”，系统会用原来的信息和材料为您新建一份申请，"
    "改好的材料重新拍照上传后即可提交。如有疑问，也可以转人工，由窗口工作人员为您解答。"
)


def _rejected(event: Event) -> Notice:
    p = event.payload
    code = _code(event)
    department = str(p.get("department_name") or "")
    licence = str(p.get("licence_name") or "")
    package = f"（{p['package_name']}）" if p.get("package_name") else ""
    lines = [f"很抱歉，您的申请 {code}{package}未获许可。"]
    if licence:
        lines.append(f"【{department or '审批部门'}】{licence}：不予许可")
    if p.get("reason"):
        lines.append(f"理由：{p['reason']}")
    closed = [str(m.get("licence_name")) for m in p.get("closed") or [] if isinstance(m, dict)]
    if closed:
        lines.append(f"同一申请中的{'、'.join(closed)}已随之终止办理。")
    next_step = Buttons(
        REAPPLY_HINT.format(basis="上面的理由" if p.get("reason") else "审批部门的意见"),
        (Button("重新申请", REAPPLY_COMMAND), Button("转人工", "/request_human")),
    )
    return _notice(
        event,
        "申请不予许可",
        "\n".join(lines),
        next_step,
        status="不予许可",
        department=department,
        detail=f"{licence}：{p['reason']}" if licence and p.get("reason") else f"{licence}不予许可",
    )


def _completed(event: Event) -> Notice:
    text = f"您的申请（{_code(event)}）已全部办结，行业综合许可证即将发放。"
    return _notice(event, "申请已办结", text, status="已办结")


def _card(event: Event) -> list[Message]:
    url = event.payload.get("card_url")
    return [Image(str(url))] if url else []


def _issued(event: Event) -> Notice:
    number = str(event.payload.get("licence_number") or "")
    text = f"您的行业综合许可证已签发，编号 {number}。扫描证上的二维码即可查看各项许可的实时状态。"
    code = _code(event)
    rate = [rating_prompt(RATE_LICENCE, application_code=code)] if code else []
    return _notice(event, "许可证已签发", text, *_card(event), *rate, status="已签发", licence_number=number)


def _changed(event: Event) -> Notice:
    number = str(event.payload.get("licence_number") or "")
    text = f"您的行业综合许可证（{number}）已变更，二维码显示的内容已同步更新。"
    return _notice(event, "许可证已变更", text, *_card(event), status="已变更", licence_number=number)


def _cancelled(event: Event) -> Notice:
    number = str(event.payload.get("licence_number") or "")
    text = f"您的行业综合许可证（{number}）已注销。如有疑问，可以发送“人工服务”咨询。"
    return _notice(event, "许可证已注销", text, status="已注销", licence_number=number)


def _due_soon(event: Event) -> Notice:
    p = event.payload
    material = str(p.get("material_name") or "承诺补交的材料")
    due = str(p.get("due_date") or "近期")
    text = f"温馨提醒：您承诺补交的“{material}”将于 {due} 到期，请及时提交，以免影响许可效力。"
    return _notice(event, "容缺材料即将到期", text, status="待补交", detail=f"{material} {due}到期")


def _overdue(event: Event) -> Notice:
    p = event.payload
    material = str(p.get("material_name") or "承诺补交的材料")
    due = str(p.get("due_date") or "")
    since = f"已于 {day_with_weekday(due)} 到期" if due else "已经到期"
    lines = [
        f"您好，您承诺容缺后补的“{material}”补交期限{since}，我们还没有收到这份材料。",
        f"请尽快补交：直接在这里发送材料的照片或扫描件，发送前说一声是哪份材料（如“这是{material}”）。",
        "工作人员可能会与您联系跟进；如有困难，可以发送“人工服务”咨询。",
        f"统一编码：{_code(event)}",
    ]
    return _notice(event, "容缺材料补交已逾期", "\n".join(lines), status="待补交", detail=f"{material}已逾期")


def _staff_message(event: Event) -> Notice:
    text = str(event.payload.get("text") or "")
    return _notice(event, "工作人员回复", f"工作人员回复：{text}", status="已回复", detail=text)


def _handoff_closed(event: Event) -> Notice:
    text = "本次人工服务已结束，感谢您的耐心。智能助手继续为您服务，有问题可以直接问我。"
    handoff_id = event.payload.get("handoff_id") or event.payload.get("id")
    # Nobody took the conversation (the person left while waiting): there is no service to rate. Events
    # written before `served` existed are taken as served.
    served = event.payload.get("served", True) is not False
    rate = [rating_prompt(RATE_HANDOFF, handoff_id=str(handoff_id))] if handoff_id and served else []
    notice = _notice(event, "人工服务已结束", text, *rate, status="已结束")
    if event.payload.get("closed_by") == "applicant":
        # They left with an exit word and have just read the gateway's own "已结束人工服务" reply.
        return replace(notice, messages=list(rate))
    return notice


NOTICES: dict[str, Callable[[Event], Notice]] = {
    "application.accepted": _accepted,
    "application.correction_required": _correction,
    "task.decided": _decided,
    "application.rejected": _rejected,
    "application.completed": _completed,
    "licence.issued": _issued,
    "licence.changed": _changed,
    "licence.cancelled": _cancelled,
    "commitment.due_soon": _due_soon,
    "commitment.overdue": _overdue,
    "handoff.message": _staff_message,
    "handoff.closed": _handoff_closed,
}
