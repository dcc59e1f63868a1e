"""The guided questionnaire (``checklist_form``) and the personalised materials checklist it ends in
(一次告知: every licence and every material, merged, said once).

The form has two required slots: ``industry`` (a catalog package id) and ``checklist_answer``, which is
asked again and again: ``action_ask_checklist_answer`` shows the backend's next unanswered question,
``validate_checklist_form`` reads the reply against that question, stores it in ``checklist_answers`` and
empties ``checklist_answer`` while questions remain. When the backend has nothing left to ask,
``required_slots`` drops ``checklist_answer`` and the form ends.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend import BackendRefused, BackendUnavailable, backend
from actions.catalog import days, industry_buttons, licence_lines, resolve_package
from actions.dialogue import (
    BUSY,
    DECISIVE,
    DECISIVE_CONFIDENCE,
    BackendAction,
    button,
    how_to_choose,
    interrupts,
    is_command,
    just_filed,
    last_bot_text,
    latest_confidence,
    latest_entity,
    latest_intent,
    latest_text,
    reject_form,
    said_since_user_spoke,
    slot_before_user_spoke,
)
from actions.parsing import (
    answers_nothing,
    describe_answer,
    parse_answer,
    parse_yes_no,
    phone_number,
    question_yes_no,
)
from actions.policy import answer_question
from actions.questionnaire import (
    ANSWER,
    ANSWERS,
    QUESTION,
    UNSURE_OPENING,
    Effects,
    answers_value,
    find_question,
    prompt,
    question_for_correction,
    reprompt,
    stored_answers,
    summary,
    unsure_reply,
)

log = logging.getLogger(__name__)

FORM = "checklist_form"
EDITABLE = ("draft", "needs_correction")


class ValidateChecklistForm(FormValidationAction):
    def name(self) -> str:
        return "validate_checklist_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            requested = tracker.get_slot("requested_slot")
            candidate = tracker.slots_to_validate().get(requested) if requested else None
            if candidate is not None and await self._interrupted(tracker, requested, str(candidate)):
                return reject_form(FORM, requested)
            return await super().run(dispatcher, tracker, domain)
        except (BackendUnavailable, BackendRefused) as exc:
            # The reply is not taken; the question is asked again once the backend answers.
            log.warning("validate_checklist_form for %s: %r", tracker.sender_id, exc)
            if not said_since_user_spoke(tracker, BUSY):
                dispatcher.utter_message(text=BUSY)
            return [SlotSet(ANSWER, None)]

    async def _interrupted(self, tracker: Tracker, requested: str, reply: str) -> bool:
        if requested == "industry":
            return await industry_interrupted(tracker, reply)
        question = await current_question(tracker)
        if question is None:
            return False
        if answers_nothing(question, latest_text(tracker) or reply):
            # "不懂什么意思" may read as a policy question, but explaining this question answers it better;
            # only a clear request ("不清楚，转人工吧") leaves the form.
            return latest_intent(tracker) in DECISIVE and latest_confidence(tracker) >= DECISIVE_CONFIDENCE
        return interrupts(tracker, answers=read_answer(tracker, question, reply)[0])

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        package_id = tracker.get_slot("industry")
        if not package_id or package_id not in {p["id"] for p in await backend().packages()}:
            return domain_slots  # the industry is asked (or validated) first
        checklist = await backend().checklist(package_id, stored_answers(tracker, package_id))
        if checklist["unanswered"]:
            return domain_slots
        return [slot for slot in domain_slots if slot != ANSWER]

    async def validate_industry(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await validate_industry(value, dispatcher, tracker, form=FORM)

    async def validate_checklist_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        package_id = tracker.get_slot("industry")
        question = await current_question(tracker)
        if not package_id or question is None:
            return {ANSWER: None}
        answers = stored_answers(tracker, package_id)
        reply = str(value)
        if answers_nothing(question, latest_text(tracker) or reply):
            # Never a guess: the question stays open, explained, with a person on offer.
            effects = await answer_effects(package_id, answers, question)
            text, buttons = unsure_reply(question, effects)
            dispatcher.utter_message(text=text, buttons=buttons)
            return {ANSWER: None}
        ok, parsed = read_answer(tracker, question, reply)
        if not ok:
            text = latest_text(tracker) or reply
            again = last_bot_text(tracker).startswith("抱歉，我没看懂")
            dispatcher.utter_message(
                text=reprompt(question, text, again=again, choose=how_to_choose(tracker))
            )
            return {ANSWER: None}
        answers[question["id"]] = parsed
        said = latest_text(tracker) or reply
        if (
            question["type"] == "bool"
            and question_yes_no(question["id"], said) is not None
            and parse_yes_no(said) is not parsed
        ):
            # Read through the question's own words ("自己办", "烧煤的"): say how, so a misreading shows.
            label = question["text"].rstrip("？?")
            dispatcher.utter_message(text=f"好的，“{label}”记为“{describe_answer(question, parsed)}”。")
        remaining = (await backend().checklist(package_id, answers))["unanswered"]
        return {
            ANSWER: None,
            ANSWERS: answers_value(package_id, answers),
            QUESTION: remaining[0]["id"] if remaining else None,
        }


async def current_question(tracker: Tracker) -> dict[str, Any] | None:
    """The question the form asked last (the backend's first unanswered one, unless it was another)."""
    package_id = tracker.get_slot("industry")
    if not package_id or package_id not in {p["id"] for p in await backend().packages()}:
        return None  # not validated yet (NLU may have filled it with words the catalog lacks)
    unanswered = (await backend().checklist(package_id, stored_answers(tracker, package_id)))["unanswered"]
    asked = tracker.get_slot(QUESTION)
    return next((q for q in unanswered if q["id"] == asked), unanswered[0] if unanswered else None)


async def answer_effects(package_id: str, answers: dict[str, Any], question: dict[str, Any]) -> Effects:
    """What each possible answer to `question` would add to the checklist, from the backend's own
    checklists for each (the catalog's rules stay the backend's)."""
    if question["type"] == "bool":
        choices: list[tuple[str, Any]] = [("是", True), ("否", False)]
    elif question["type"] == "choice":
        choices = [(o["label"], o["id"]) for o in question.get("options", [])]
    elif question.get("min") is not None and question.get("max") is not None:
        choices = [("", question["min"]), ("", question["max"])]
    else:
        return []
    brought: list[tuple[str, list[str], list[str]]] = []
    for shown, value in choices:
        checklist = await backend().checklist(package_id, {**answers, question["id"]: value})
        brought.append(
            (
                shown,
                [licence["licence_name"] for licence in checklist["licences"]],
                [material["name"] for material in checklist["materials"]],
            )
        )
    # What every answer needs anyway is not what this answer changes.
    licences_always = set.intersection(*(set(licences) for _, licences, _ in brought))
    materials_always = set.intersection(*(set(materials) for _, _, materials in brought))
    return [
        (
            shown,
            [name for name in licences if name not in licences_always],
            [name for name in materials if name not in materials_always],
        )
        for shown, licences, materials in brought
    ]


def read_answer(tracker: Tracker, question: dict[str, Any], reply: str) -> tuple[bool, Any]:
    text = latest_text(tracker)
    if answers_nothing(question, text):
        # NLU may have mapped "不知道" to deny, i.e. "no": the words say it is no answer.
        return False, None
    if reply in ("yes", "no") and text and not is_command(text):
        # The slot mapping turned an affirm/deny intent into yes/no, but the words themselves come first:
        # to 是否使用燃气, "烧煤的" is a no whatever intent NLU guessed.
        ok, parsed = parse_answer(question, text)
        if ok:
            return ok, parsed
    ok, parsed = parse_answer(question, reply)
    if not ok and question["type"] == "number":
        # NLU reads "两百来平" as an area entity more reliably than a number finder reads the text.
        area = latest_entity(tracker, "area")
        if area:
            ok, parsed = parse_answer(question, area)
    return ok, parsed


async def industry_interrupted(tracker: Tracker, reply: str) -> bool:
    """Asked for the industry: "开药店要办什么证" names one, so it answers (its licences come with the
    checklist); "你好" or "转人工" do not."""
    said = latest_entity(tracker, "industry") or reply
    found = await resolve_package(backend(), said) is not None
    if found and latest_intent(tracker) in ("ask_licences_for_industry", "ask_time_limit"):
        return False
    return interrupts(tracker, answers=found)


async def validate_industry(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, *, form: str
) -> dict[str, Any]:
    """Shared by the questionnaire and the application form: the reply → a catalog package id."""
    package = await resolve_package(backend(), str(value) if value else None)
    before = slot_before_user_spoke(tracker, "industry")
    if (
        package is None
        and before
        and tracker.get_slot("requested_slot") not in (None, "industry")
        and await resolve_package(backend(), str(before)) is not None
    ):
        # NLU found an industry word inside another answer (书香 in the shop name 书香小屋) that the catalog
        # does not know: the industry chosen before stands, and the form goes on with its question.
        return {"industry": before}
    if package is None:
        if await answer_question(dispatcher, latest_text(tracker), backend()):
            # An unsure reading of a question (以后能加进来不) is no industry: the documents' answer, then
            # the form asks for the industry again.
            return {"industry": None}
        shown = str(value)[:20]
        dispatcher.utter_message(
            text=f"抱歉，我没能把“{shown}”对应到联办的行业。请换个说法（例如“饭店”“便利店”“药店”），"
            "或点下面的常见行业：",
            buttons=await industry_buttons(backend(), "inform"),
        )
        return {"industry": None}
    package_id = package["id"]
    result: dict[str, Any] = {"industry": package_id}
    previous = tracker.get_slot(ANSWERS)
    if not stored_answers(tracker, package_id):
        answers: dict[str, Any] = {}
        area = latest_entity(tracker, "area")
        detail = await backend().package(package_id)
        area_question = find_question(detail, "area")
        if area and area_question:
            ok, parsed = parse_answer(area_question, area)
            if ok:
                answers["area"] = parsed
        result[ANSWERS] = answers_value(package_id, answers)
        result[QUESTION] = None
        changed = isinstance(previous, dict) and previous.get("package_id") not in (None, package_id)
        if changed and tracker.active_loop.get("name") == form:
            dispatcher.utter_message(
                text=f"好的，行业改为“{package['name']}”，我们按新的行业重新问几个问题。"
            )
    return result


class ActionAskChecklistAnswer(BackendAction):
    """Asks the backend's next unanswered question (the form's `action_ask_<slot>`)."""

    def name(self) -> str:
        return "action_ask_checklist_answer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        package_id = tracker.get_slot("industry")
        if not package_id:
            return []
        answers = stored_answers(tracker, package_id)
        checklist = await self.backend.checklist(package_id, answers)
        unanswered = checklist["unanswered"]
        if not unanswered:
            return []
        question = unanswered[0]
        if explained_since_user_spoke(tracker):
            # The explanation of an unsure reply restated this question with its buttons: asking again would
            # say it twice.
            return [SlotSet(QUESTION, question["id"])]
        if not asked_since_activation(tracker):
            before = slot_before_user_spoke(tracker, ANSWERS)
            resumed = isinstance(before, dict) and before.get("package_id") == package_id
            if resumed and before.get("answers"):
                dispatcher.utter_message(text=f"好的，我们接着上次的问题继续（已回答 {len(answers)} 题）。")
            else:
                noted = summary(await self.backend.package(package_id), answers)
                dispatcher.utter_message(
                    text=f"好的，按“{checklist['package_name']}”为您准备材料清单。我先问几个简单问题，"
                    "答完就给您列出全部证照和材料（中途可以随时提问，回复“算了”可停止）。"
                    + ("\n已记下您说的：\n" + "\n".join(noted) if noted else "")
                )
        text, buttons = prompt(question, number=len(answers) + 1, total=len(answers) + len(unanswered))
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet(QUESTION, question["id"])]


def explained_since_user_spoke(tracker: Tracker) -> bool:
    """Whether this turn already answered an unsure reply (``unsure_reply``)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and str(event.get("text") or "").startswith(UNSURE_OPENING):
            return True
    return False


def asked_since_activation(tracker: Tracker) -> bool:
    """Whether this run of the questionnaire has asked a question already (the first one gets an intro)."""
    # A form's ask action leaves no ActionExecuted in the tracker, only its events: every question it
    # asks sets checklist_question.
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == QUESTION and event.get("value"):
            return True
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            return False
    return False


def brief(description: str, limit: int = 60) -> str:
    """The first sentence of a material's description: enough to know what to bring."""
    first = re.split(r"[。]", description, maxsplit=1)[0]
    if len(first) > limit:
        # A whole clause rather than a cut word: the last "；" before the limit, else the last "，".
        cut = first.rfind("；", 0, limit)
        if cut <= 20:
            cut = first.rfind("，", 0, limit)
        first = first[:cut] if cut > 20 else first[:limit] + "…"
    return first


def material_lines(materials: list[dict[str, Any]]) -> list[str]:
    lines = []
    for i, material in enumerate(materials, 1):
        if material["key"]:
            tag = "关键材料"
        elif material.get("commitment_covers"):
            tag = "可容缺后补，也可告知承诺"
        else:
            tag = "可容缺后补"
        line = f"{i}. {material['name']}【{tag}】：{brief(material['description'])}"
        if material.get("reasons"):
            line += "（" + "；".join(material["reasons"]) + "）"
        lines.append(line)
    return lines


async def send_checklist_notice(
    dispatcher: CollectingDispatcher, package_id: str, answers: dict[str, Any]
) -> None:
    """The one-time notice picture of a checklist that no application holds yet. The checklist has been
    said in text already, so a failure here costs only the picture, never the turn."""
    try:
        link = await backend().call(
            "POST", "/checklists/notice", json_body={"package_id": package_id, "answers": answers}
        )
    except (BackendUnavailable, BackendRefused) as exc:
        log.warning("checklist notice picture for %s: %r", package_id, exc)
        return
    if isinstance(link, dict) and link.get("notice_url"):
        dispatcher.utter_message(image=backend().image_url(link["notice_url"]))


def correction_example(answers: dict[str, Any]) -> str:
    if "area" in answers:
        return f"不对，面积是{int(answers['area']) + 20}平"
    return "不对，刚才那个应该选否"


async def show_checklist(
    dispatcher: CollectingDispatcher, tracker: Tracker, package_id: str, *, heading: str
) -> None:
    """The merged checklist in three messages: the answers, the licences, the materials (一次告知)."""
    api = backend()
    package = await api.package(package_id)
    answers = stored_answers(tracker, package_id)
    checklist = await api.checklist(package_id, answers)
    answered = summary(package, answers)
    if answered:
        dispatcher.utter_message(
            text=heading
            + "\n"
            + "\n".join(answered)
            + f"\n（哪一项说错了，直接告诉我即可，例如“{correction_example(answers)}”。）"
        )
    dispatcher.utter_message(
        text="\n".join(
            [
                f"开办“{checklist['package_name']}”需要办理 {len(checklist['licences'])} 项证照，"
                "一窗受理、各部门并行审批：",
                *licence_lines(checklist),
                f"全部办结承诺{days(checklist['promised_days'])}（法定{days(checklist['legal_days'])}），"
                "受理后开始计时。",
            ]
        )
    )
    notices = [f"· {notice}" for notice in checklist.get("notices", [])]
    dispatcher.utter_message(
        text="\n".join(
            [
                f"需要准备的材料共 {len(checklist['materials'])} 份（几项许可共用的材料只交一份）：",
                *material_lines(checklist["materials"]),
                *(["温馨提示：", *notices] if notices else []),
                "关键材料必须提交；标明“可容缺后补”的，缺了也可以先受理，在规定期限内补交即可。",
            ]
        )
    )
    if checklist["unanswered"]:
        dispatcher.utter_message(
            text=f"还有 {len(checklist['unanswered'])} 个问题没回答，回答后清单会更准确。",
            buttons=[button("继续回答", "/start_checklist")],
        )


class ActionShowChecklist(BackendAction):
    def name(self) -> str:
        return "action_show_checklist"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        package_id = tracker.get_slot("industry")
        reset = [SlotSet(ANSWER, None), SlotSet(QUESTION, None)]
        if not package_id:
            dispatcher.utter_message(
                text="请先告诉我您准备开什么店，我再为您列材料清单。",
                buttons=await industry_buttons(self.backend, "start_checklist"),
            )
            return reset
        await show_checklist(dispatcher, tracker, package_id, heading="好的，问题都答完了。根据您的回答：")
        synced = await sync_draft(dispatcher, tracker, package_id)
        if not synced:
            answers = stored_answers(tracker, package_id)
            if not (await self.backend.checklist(package_id, answers))["unanswered"]:
                # The questionnaire ends in the picture too (一次告知), application or not.
                await send_checklist_notice(dispatcher, package_id, answers)
            dispatcher.utter_message(
                text="材料备齐后，可以直接在这里提交申请：拍照上传材料，一次提交，各部门并行审批。",
                buttons=[
                    button("开始申请", "/start_application"),
                    button("问个政策问题", "/ask_policy"),
                    button("转人工", "/request_human"),
                ],
            )
        return reset


async def sync_draft(dispatcher: CollectingDispatcher, tracker: Tracker, package_id: str) -> bool:
    """Copies new answers into the applicant's editable application of the same package, if there is one."""
    code = tracker.get_slot("application_code")
    if not code:
        return False
    api = backend()
    applicant = str(tracker.sender_id)
    try:
        application = await api.application(applicant, code)
        if application["package_id"] != package_id or application["status"] not in EDITABLE:
            return False
        updated = await api.update_application(
            applicant, code, {"answers": stored_answers(tracker, package_id)}
        )
    except BackendRefused:
        return False
    dispatcher.utter_message(
        text=f"已把这些回答同步到您的申请 {code}。回复“还缺什么材料”可以查看还要上传哪些。"
    )
    if updated.get("notice_url"):
        dispatcher.utter_message(image=backend().image_url(updated["notice_url"]))
    return True


# --- corrections -------------------------------------------------------------------------------------------

_CORRECTION_WORDS = re.compile(
    r"不对不对|不对|不是这样|说错了|搞错了|弄错了|填错了|答错了|写错了|错了|更正[:：]?|改一下|改成|改为|"
    r"刚才的答案|刚才那个|刚才|刚刚|说反了|其实|不好意思|我要改|要改|应该是|应该选|重新"
)
_NOT_THIS = re.compile(r"不是\s*[\d一二两三四五六七八九十百千万零]+[^，,。；;]*")


def correction_value_text(text: str) -> str:
    """The new answer inside a correction: "不是200，是250平" → "，是250平"; "不对，有外卖" → "，有外卖"."""
    return _CORRECTION_WORDS.sub("", _NOT_THIS.sub("", text))


class ActionApplyCorrection(BackendAction):
    """不对，面积是200平 / 刚才那个选错了 / 电话写错了 — inside the questionnaire or after it; and 发错了 /
    刚才那张不对 right after a photo was filed, which takes that photo back."""

    def name(self) -> str:
        return "action_apply_correction"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        filed = just_filed(tracker)
        if filed is not None:
            from actions.applications import take_back  # actions.applications builds on this module

            return await take_back(dispatcher, self.backend, tracker, filed)
        in_form = tracker.active_loop.get("name") == FORM
        text = latest_text(tracker)
        events: list[dict[str, Any]] = []

        # Only a real number: NLU has tagged the 5 of "不对，人数是5个" as a phone.
        phone = phone_number(latest_entity(tracker, "phone"))
        if phone:
            return await self._correct_phone(dispatcher, tracker, phone)
        code = latest_entity(tracker, "application_code")
        if code and not in_form:
            dispatcher.utter_message(text=f"好的，申请编码已改为 {code}。")
            return [SlotSet("application_code", code)]

        stored = tracker.get_slot(ANSWERS)
        # The industry slot already holds the new value (NLU filled it); the answers still name the old one.
        current = stored.get("package_id") if isinstance(stored, dict) else None
        if (
            current is None
            and not tracker.active_loop.get("name")
            and await answer_question(dispatcher, text, self.backend)
        ):
            # Nothing answered yet to correct, no form open: words that ask something (面馆的执照和食品证能
            # 一块儿办不) are a question, not a change of industry.
            return []
        said_industry = latest_entity(tracker, "industry")
        package = await resolve_package(self.backend, said_industry) if said_industry else None
        if package is not None and package["id"] != current:
            if in_form:
                dispatcher.utter_message(
                    text=f"好的，行业改为“{package['name']}”，我们按新的行业重新问几个问题。"
                )
            else:
                dispatcher.utter_message(
                    text=f"好的，行业改为“{package['name']}”。需要的话，我按新行业重新为您列材料清单。",
                    buttons=[button("重新列清单", "/start_checklist")],
                )
            return [
                SlotSet("industry", package["id"]),
                SlotSet(ANSWERS, answers_value(package["id"], {})),
                SlotSet(QUESTION, None),
            ]

        package_id = tracker.get_slot("industry")
        answers = stored_answers(tracker, package_id)
        if not package_id or (not answers and not in_form):
            dispatcher.utter_message(
                text="好的，请告诉我要改成什么，例如“不对，面积是200平”或“电话写错了，是13912345678”。"
            )
            return []
        package = await self.backend.package(package_id)
        current = find_question(package, tracker.get_slot(QUESTION)) if in_form else None
        pool = dict(answers)
        if current is not None:
            pool.setdefault(current["id"], None)
        area = latest_entity(tracker, "area")
        question = find_question(package, "area") if area and "area" in pool else None
        if question is None:
            question = question_for_correction(text, package, pool)

        if question is None:
            if in_form and answers:
                last = list(answers)[-1]
                answers.pop(last)
                dispatcher.utter_message(text="好的，我们重新回答上一个问题。")
                events = [SlotSet(ANSWERS, answers_value(package_id, answers)), SlotSet(QUESTION, None)]
                return events
            lines = summary(package, answers)
            dispatcher.utter_message(
                text="好的，请问要改哪一项？直接说新的答案就行，例如“不对，面积是200平”。目前的回答：\n"
                + "\n".join(lines)
            )
            return []

        ok, value = parse_answer(question, area) if area and question["id"] == "area" else (False, None)
        if not ok:
            ok, value = parse_answer(question, correction_value_text(text))
        label = question["text"].rstrip("？?")
        if ok:
            answers[question["id"]] = value
            dispatcher.utter_message(text=f"好的，已改为：{label} —— {describe_answer(question, value)}。")
        else:
            answers.pop(question["id"], None)
            if not in_form:
                dispatcher.utter_message(
                    text=f"好的，请告诉我“{label}”的新答案，例如“不对，{_example(question)}”。"
                )
                return []
            dispatcher.utter_message(text="好的，我们重新回答这个问题。")
        events = [SlotSet(ANSWERS, answers_value(package_id, answers)), SlotSet(QUESTION, None)]
        if not in_form:
            tracker.slots[ANSWERS] = answers_value(package_id, answers)
            unanswered = (await self.backend.checklist(package_id, answers))["unanswered"]
            if unanswered:
                dispatcher.utter_message(
                    text=f"还有 {len(unanswered)} 个问题没回答，答完我就列出完整的材料清单。",
                    buttons=[button("继续回答", "/start_checklist")],
                )
            else:
                await show_checklist(dispatcher, tracker, package_id, heading="更新后的回答：")
            synced = await sync_draft(dispatcher, tracker, package_id)
            if not unanswered and not synced:
                await send_checklist_notice(dispatcher, package_id, answers)
        return events

    async def _correct_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
    ) -> list[dict[str, Any]]:
        events = [SlotSet("phone", phone)]
        code = tracker.get_slot("application_code")
        if code and tracker.active_loop.get("name") is None:
            await self.backend.update_application(
                str(tracker.sender_id), code, {"applicant": {"phone": phone}}
            )
            dispatcher.utter_message(text=f"好的，申请 {code} 的联系电话已改为 {phone}。")
        else:
            dispatcher.utter_message(text=f"好的，联系电话改为 {phone}。")
        return events


def _example(question: dict[str, Any]) -> str:
    if question["type"] == "number":
        return f"{question['text'].rstrip('？?')}是 120{question.get('unit') or ''}"
    if question["type"] == "choice" and question.get("options"):
        return f"是{question['options'][0]['label']}"
    return "应该是“否”"
