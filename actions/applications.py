"""Applications: creating one (联合开办), taking uploaded materials, showing what is missing, submitting
with confirmation, and progress per department.

The application code (统一编码) is remembered in the ``application_code`` slot, but the backend decides
everything else: which materials a package needs, whether an application is complete, and each
department's status. When the applicant has several applications and did not say which one, uploads go
to the one being edited, else to an accepted one still owing materials promised for later (容缺后补: after
acceptance nothing else is taken), and progress asks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend import Backend, BackendRefused, BackendUnavailable, backend
from actions.catalog import within
from actions.checklist import industry_interrupted, validate_industry
from actions.dialogue import (
    BUSY,
    FILED,
    BackendAction,
    Buttons,
    applicant_of,
    button,
    interrupts,
    is_command,
    latest_entity,
    latest_intent,
    latest_text,
    message_id,
    reject_form,
    said_since_user_spoke,
)
from actions.parsing import (
    application_code,
    asks_whether,
    bare_value,
    best_match,
    commitment_kind,
    commitment_subject,
    material_words,
    phone_number,
    same_ending,
)
from actions.policy import answer_question
from actions.questionnaire import stored_answers
from actions.ratings import ask_for_score

log = logging.getLogger(__name__)

EDITABLE = ("draft", "needs_correction")
# Once accepted, only materials promised for later (容缺后补) are still taken, also after the licence is
# issued; never after a refusal (the backend's DELIVERABLE).
DELIVERABLE = ("accepted", "in_review", "completed")
UNSATISFIED = ("missing", "needs_reupload")
FORM = "application_form"
APPLICANT_SLOTS = ("operator_name", "legal_representative", "address", "phone")
# The fields a 联合变更 changes (the backend's LicenceChanges), as the applicant reads them.
CHANGED_FIELD_LABELS = {"operator_name": "名称", "legal_representative": "法定代表人", "address": "经营地址"}


# --- finding the application -------------------------------------------------------------------------------


async def find_application(tracker: Tracker, *, editable: bool) -> dict[str, Any] | None:
    """The application the applicant means: the code just said, else the remembered one, else the newest
    (editable, when `editable`)."""
    return await _find(tracker, *((is_editable,) if editable else ()))


async def find_receiving(tracker: Tracker) -> dict[str, Any] | None:
    """Where materials go: the code said or remembered while it still takes some, else the newest editable
    application, else the newest one that still owes materials promised for later (容缺后补)."""
    return await _find(tracker, is_editable, owes)


async def _find(tracker: Tracker, *wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The code just said or the remembered one if one of `wanted` accepts it (any, when none is given),
    else the newest application the first of `wanted` accepts, then the second …"""
    api = backend()
    applicant = applicant_of(tracker)
    code = latest_entity(tracker, "application_code") or tracker.get_slot("application_code")
    if code:
        try:
            application = await api.application(applicant, application_code(code) or code)
        except BackendRefused as refused:
            if refused.status != 404:
                raise
        else:
            if not wanted or any(accepts(application) for accepts in wanted):
                return application
    listed = sorted(await api.applications(applicant), key=lambda a: a["created_at"], reverse=True)
    if not wanted:
        return listed[0] if listed else None
    for accepts in wanted:
        found = next((a for a in listed if accepts(a)), None)
        if found is not None:
            return found
    return None


def is_editable(application: dict[str, Any]) -> bool:
    return application["status"] in EDITABLE


def owes(application: dict[str, Any]) -> bool:
    """Accepted, and something promised for later (容缺后补) has not arrived yet."""
    return application["status"] in DELIVERABLE and bool(owed(application))


def must_supply(material: dict[str, Any]) -> bool:
    """Key materials, and whatever a department asked to have again, cannot be promised for later."""
    return bool(material["key"]) or material["status"] == "needs_reupload"


def unsatisfied(application: dict[str, Any]) -> list[dict[str, Any]]:
    """Materials still to supply, those that cannot wait first (the others may follow later: 容缺)."""
    items = [m for m in application["materials"] if m["status"] in UNSATISFIED]
    return sorted(items, key=lambda m: not must_supply(m))


def owed(application: dict[str, Any]) -> list[dict[str, Any]]:
    """Materials promised for later (容缺后补) and not delivered yet, the soonest deadline first; nothing is
    owed on a refused application."""
    if application["status"] not in (*EDITABLE, *DELIVERABLE):
        return []
    items = [m for m in application["materials"] if m["status"] == "committed"]
    return sorted(items, key=lambda m: m.get("commitment_deadline") or "9999")


def owed_line(material: dict[str, Any]) -> str:
    deadline = material.get("commitment_deadline")
    return f"· {material['name']}：" + (f"{short_date(deadline)}前补交" if deadline else "待补交")


def match_material(
    materials: list[dict[str, Any]], hint: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The checklist item a hint names ("租赁合同", "身份证", or a material id from a button), and the
    candidates when it is ambiguous."""
    by_id = {m["material_id"]: m for m in materials}
    if hint in by_id:
        return by_id[hint], []
    hint = material_words(hint)
    keys = best_match(hint, [(m["material_id"], m["name"]) for m in materials], min_score=0.4)
    keys = same_ending(hint, [(k, by_id[k]["name"]) for k in keys])
    if len(keys) == 1:
        return by_id[keys[0]], []
    pool = [by_id[k] for k in keys] or materials
    keys = best_match(hint, [(m["material_id"], m["name"] + m["description"]) for m in pool], min_score=0.4)
    if len(keys) == 1:
        return by_id[keys[0]], []
    return None, [by_id[k] for k in keys]


def material_line(material: dict[str, Any]) -> str:
    status = material["status_label"]
    if material["status"] == "committed" and material.get("commitment_deadline"):
        status += f"，{short_date(material['commitment_deadline'])}前补交"
    if material["status"] == "needs_reupload" and material.get("problem"):
        status += f"：{material['problem']}"
    later = "（非关键，可容缺后补）" if material["status"] == "missing" and not must_supply(material) else ""
    return f"· {material['name']}{later}：{status}"


def short_date(value: str) -> str:
    day = date.fromisoformat(value[:10])
    return f"{day.month}月{day.day}日"


def upload_hint(material: dict[str, Any]) -> str:
    return f"请上传【{material['name']}】：直接在对话框里发照片或扫描件即可（拍全四角，避免反光）。"


def progress_buttons() -> Buttons:
    return [button("办理进度", "/ask_progress"), button("还缺什么材料", "/ask_missing_materials")]


# --- the application form ----------------------------------------------------------------------------------


class ValidateApplicationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_application_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        requested = tracker.get_slot("requested_slot")
        try:
            candidate = tracker.slots_to_validate().get(requested) if requested else None
            if candidate is not None:
                if requested == "industry":
                    interrupted = await industry_interrupted(tracker, str(candidate))
                else:
                    # Names and addresses are free text: anything passes, unless NLU is sure it is
                    # something else ("算了", "转人工") or it is a question ("名称有什么要求吗").
                    free_text = requested != "phone"
                    fits = free_text or phone_number(str(candidate)) is not None
                    interrupted = interrupts(tracker, answers=fits, free_text=free_text)
                if interrupted:
                    return reject_form(FORM, requested)
            return await super().run(dispatcher, tracker, domain)
        except BackendUnavailable:
            if not said_since_user_spoke(tracker, BUSY):
                dispatcher.utter_message(text=BUSY)
            return [SlotSet("industry", None)] if requested == "industry" else []

    async def validate_industry(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await validate_industry(value, dispatcher, tracker, form=FORM)

    def validate_operator_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = bare_value("name", value)
        if is_command(name) or not 2 <= len(name) <= 100:
            dispatcher.utter_message(
                text="名称需要 2～100 个字，例如“老王火锅店”。请再说一次店铺（企业）名称："
            )
            return {"operator_name": None}
        return {"operator_name": name}

    def validate_legal_representative(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        person = bare_value("person", value)
        if is_command(person) or not 2 <= len(person) <= 30:
            dispatcher.utter_message(text="请告诉我法定代表人（或经营者）的姓名，例如“王五”。")
            return {"legal_representative": None}
        return {"legal_representative": person}

    def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if text.startswith("/share_location"):
            # A WeChat location message: its label is the address as the map knows it.
            try:
                text = str(json.loads(text.removeprefix("/share_location") or "{}").get("label") or "")
            except ValueError:
                text = ""
        address = bare_value("address", text)
        if is_command(address) or not 5 <= len(address) <= 300:
            dispatcher.utter_message(text="地址请写详细一些（区县、街道、门牌号），例如“兰山区通达路88号”。")
            return {"address": None}
        return {"address": address}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = phone_number(value)
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
            return {"phone": None}
        return {"phone": phone}


# --- creating the application ------------------------------------------------------------------------------


def idempotency_key(applicant: str, body: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"rasa:{applicant}:{digest[:32]}"


class ActionStartApplication(BackendAction):
    """After application_form: creates the draft (or reuses an open draft of the same package)."""

    def name(self) -> str:
        return "action_start_application"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        package_id = tracker.get_slot("industry")
        info = {slot: tracker.get_slot(slot) for slot in APPLICANT_SLOTS if tracker.get_slot(slot)}
        if not package_id:
            dispatcher.utter_message(
                text="请先告诉我您准备开什么店，再开始申请。",
                buttons=[button("列材料清单", "/start_checklist")],
            )
            return []
        answers = stored_answers(tracker, package_id)
        drafts = [
            a
            for a in await self.backend.applications(applicant)
            if a["package_id"] == package_id and a["operation"] == "open" and a["status"] == "draft"
        ]
        if drafts:
            code = drafts[0]["code"]
            body: dict[str, Any] = {"applicant": info}
            if answers:
                body["answers"] = answers
            application = await self.backend.update_application(applicant, code, body)
            dispatcher.utter_message(
                text=f"您已经有一份“{application['package_name']}”的申请草稿 {code}，"
                "已用刚才的信息更新，我们接着办。"
            )
        else:
            body = {"package_id": package_id, "operation": "open", "answers": answers, "applicant": info}
            application = await self.backend.create_application(
                applicant, body, idempotency_key=idempotency_key(applicant, body)
            )
            code = application["code"]
            dispatcher.utter_message(
                text=f"申请已创建，统一编码：{code}（上传材料、查询进度都会用到，我也会帮您记着）。"
            )
        events: list[dict[str, Any]] = [
            SlotSet("application_code", code),
            SlotSet("operation", "open"),
            *(SlotSet(slot, None) for slot in APPLICANT_SLOTS),
        ]
        file_id = tracker.get_slot("file_id")
        asking: tuple[str, Buttons] | None = None
        if file_id:
            # A photo sent before the application existed is filed now, as what the applicant said it was.
            hint = pending_file_material(tracker, file_id) or tracker.get_slot("material_hint")
            material, candidates = match_material(application["materials"], hint) if hint else (None, [])
            if material is None and hint:
                # Named, but not as anything this application needs: ask, never guess.
                choices = candidates or unsatisfied(application) or application["materials"]
                asking = (
                    f"您之前发来的文件（您说是“{hint}”）在这份申请的材料清单里没有对应的一项。"
                    "请问它是哪一份材料？点一下对应的名称：",
                    [button(m["name"], upload_payload(file_id, m["material_id"])) for m in choices[:8]],
                )
            else:
                material = material or next(iter(unsatisfied(application)), None)
            if material is not None:
                application = await self.backend.attach_material(
                    applicant, code, material["material_id"], file_id
                )
                filed = [f"您之前发来的文件已登记为【{material['name']}】。"]
                filed += file_warnings(application, material["material_id"], file_id)
                dispatcher.utter_message(text="\n".join(filed))
                events.append(filed_slot(code, material["material_id"], file_id))
            events += [
                SlotSet("file_id", None),
                SlotSet("material_hint", None),
                SlotSet("file_material", None),
            ]
        await guide_uploads(dispatcher, self.backend, applicant, application)
        if asking is not None:
            # Last, so its buttons are the ones at hand.
            dispatcher.utter_message(text=asking[0], buttons=asking[1])
        return events


def pending_file_material(tracker: Tracker, file_id: str) -> str | None:
    """What the applicant said the photo waiting for an application is (``file_material``), if said of
    this very photo."""
    said = tracker.get_slot("file_material")
    if isinstance(said, dict) and said.get("file_id") == file_id and said.get("material"):
        return str(said["material"])
    return None


def waiting_tip(missing: list[dict[str, Any]]) -> str:
    """How to ask for 容缺后补 / 告知承诺, when some missing material allows one."""
    open_ = next((m for m in missing if commitment_choices(m)), None)
    if open_ is None:
        return ""
    return f"\n暂时拿不出来的，可以说“{open_['name']}后面再补”，我告诉您能否容缺后补或告知承诺。"


async def guide_uploads(
    dispatcher: CollectingDispatcher, api: Backend, applicant: str, application: dict[str, Any]
) -> None:
    """What to upload next, and what else the application still needs."""
    missing = unsatisfied(application)
    if missing:
        dispatcher.utter_message(
            text="接下来请逐份拍照上传材料，还需要 "
            f"{len(missing)} 份：\n"
            + "\n".join(material_line(m) for m in missing)
            + "\n\n"
            + upload_hint(missing[0])
            + f"\n上传前可以先说一声是哪份材料（如“这是{missing[-1]['name']}”），不说的话我按清单顺序登记。"
            + waiting_tip(missing)
        )
    if application["operation"] == "open":
        checklist = await api.checklist(application["package_id"], application["answers"])
        if checklist["unanswered"]:
            dispatcher.utter_message(
                text=f"另外还有 {len(checklist['unanswered'])} 个情况没回答（决定需要哪些许可），"
                "提交前需要补上。",
                buttons=[button("现在回答", "/start_checklist")],
            )


# --- uploads ---------------------------------------------------------------------------------------------


def upload_payload(file_id: str, material_id: str) -> str:
    entities = json.dumps({"file_id": file_id, "material_hint": material_id}, ensure_ascii=False)
    return f"/upload_material{entities}"


class ActionAttachMaterial(BackendAction):
    """A photo arrived (`/upload_material{"file_id": ...}`) or the applicant said what they are sending."""

    def name(self) -> str:
        return "action_attach_material"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        file_id = latest_entity(tracker, "file_id") or tracker.get_slot("file_id")
        hint = latest_entity(tracker, "material_hint") or tracker.get_slot("material_hint")
        application = await find_receiving(tracker)
        if application is None:
            return await self._no_application(dispatcher, tracker, file_id, hint)
        if application["status"] in DELIVERABLE:
            return await self._deliver(dispatcher, tracker, application, file_id, hint)
        code = application["code"]
        missing = unsatisfied(application)
        material, candidates = match_material(application["materials"], hint) if hint else (None, [])

        if not file_id:
            if material is not None:
                dispatcher.utter_message(text="好的，" + upload_hint(material))
                return [SlotSet("material_hint", material["material_id"]), SlotSet("application_code", code)]
            unknown = f"您的申请清单里没有“{hint}”这一项。" if hint else ""
            if missing:
                dispatcher.utter_message(
                    text=unknown
                    + f"申请 {code} 还需要上传：\n"
                    + "\n".join(material_line(m) for m in missing)
                    + "\n\n"
                    + upload_hint(missing[0])
                )
            else:
                dispatcher.utter_message(
                    text=f"申请 {code} 的材料已经齐全，可以提交了。",
                    buttons=[button("提交申请", "/submit_application")],
                )
            return [SlotSet("material_hint", None), SlotSet("application_code", code)]

        if material is None and (hint or not missing):
            # Named but not recognisable, or nothing is missing (a replacement?): ask, never guess.
            choices = candidates or missing or owed(application) or application["materials"]
            dispatcher.utter_message(
                text="收到文件了。请问这是哪一份材料？点一下对应的名称：",
                buttons=[button(m["name"], upload_payload(file_id, m["material_id"])) for m in choices[:8]],
            )
            return [
                SlotSet("file_id", None),
                SlotSet("material_hint", None),
                SlotSet("application_code", code),
            ]
        material = material or missing[0]
        other = filed_elsewhere(application, material, file_id)
        if other is not None:
            return same_file(dispatcher, code, material, other, file_id)

        updated = await self.backend.attach_material(
            applicant, code, material["material_id"], file_id, turn=message_id(tracker)
        )
        lines = [f"已收到，已作为【{material['name']}】登记到申请 {code}。"]
        lines += retake_line(material, updated)
        lines += file_warnings(updated, material["material_id"], file_id)
        remaining = unsatisfied(updated)
        promised = owed(updated)
        buttons: Buttons = []
        if not remaining:
            if updated["tasks"]:
                lines.append("要求补正的材料都已重新提交，确认无误后就可以再次提交了。")
            elif promised:
                lines.append("现在需要的材料都已收到，确认无误后就可以提交申请了。")
            else:
                lines.append("材料已全部齐全！确认无误后就可以提交申请了。")
            if promised:
                # Not "everything is in": what was promised for later is still owed.
                lines.append(f"另有 {len(promised)} 份容缺后补的材料，请在期限内补交：")
                lines += [owed_line(m) for m in promised]
            buttons = [button("提交申请", "/submit_application")]
        elif not any(must_supply(m) for m in remaining):
            names = "、".join(m["name"] for m in remaining)
            lines.append(f"关键材料已经齐全！剩下的 {names} 属于非关键材料，可以容缺后补，现在就能提交。")
            lines.append("也可以继续上传：" + upload_hint(remaining[0]))
            buttons = [button("提交申请", "/submit_application")]
        else:
            lines.append(f"还差 {len(remaining)} 份。下一份" + upload_hint(remaining[0]))
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)
        return [
            SlotSet("file_id", None),
            SlotSet("material_hint", None),
            SlotSet("application_code", code),
            filed_slot(code, material["material_id"], file_id),
        ]

    async def _deliver(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        application: dict[str, Any],
        file_id: str | None,
        hint: str | None,
    ) -> list[dict[str, Any]]:
        """After acceptance a file keeps a promise (容缺后补): the one named, the only one owed, or the one
        the applicant picks when several are owed and nothing said which."""
        applicant = applicant_of(tracker)
        code = application["code"]
        pending = owed(application)
        material, candidates = match_material(pending, hint) if hint else (None, [])
        events: list[dict[str, Any]] = [SlotSet("material_hint", None), SlotSet("application_code", code)]
        # A hint may be a material id from an earlier button: name it as the applicant knows it.
        said = next((m["name"] for m in application["materials"] if m["material_id"] == hint), hint)
        unknown = f"“{said}”不在需要补交的材料里。" if hint and material is None else ""
        if not file_id:
            if material is not None:
                dispatcher.utter_message(text="好的，" + upload_hint(material))
                return [SlotSet("material_hint", material["material_id"]), SlotSet("application_code", code)]
            dispatcher.utter_message(
                text=unknown
                + f"申请 {code} 还需要补交这些容缺后补的材料：\n"
                + "\n".join(owed_line(m) for m in pending)
                + "\n\n"
                + upload_hint(pending[0])
            )
            return events
        if material is None and (hint or len(pending) > 1):
            choices = candidates or pending
            dispatcher.utter_message(
                text=f"收到文件了。{unknown}申请 {code} 还有 {len(pending)} 份容缺后补的材料待补交，"
                "请问这是哪一份？点一下对应的名称：",
                buttons=[button(m["name"], upload_payload(file_id, m["material_id"])) for m in choices[:8]],
            )
            return [SlotSet("file_id", None), *events]
        material = material or pending[0]
        other = filed_elsewhere(application, material, file_id)
        if other is not None:
            return same_file(dispatcher, code, material, other, file_id)
        updated = await self.backend.attach_material(
            applicant, code, material["material_id"], file_id, turn=message_id(tracker)
        )
        lines = [f"已收到，【{material['name']}】已补交，登记到申请 {code}。"]
        lines += file_warnings(updated, material["material_id"], file_id, can_add=False)
        remaining = owed(updated)
        if remaining:
            lines.append(f"还有 {len(remaining)} 份容缺后补的材料需要在期限内补交：")
            lines += [owed_line(m) for m in remaining]
        else:
            lines.append("容缺后补的材料已经全部补齐，感谢配合！")
        buttons = progress_buttons() if remaining else [button("办理进度", "/ask_progress")]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        # Taking it back is refused now (it went to the departments); "发错了" is still about this photo.
        return [SlotSet("file_id", None), *events, filed_slot(code, material["material_id"], file_id)]

    async def _no_application(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, file_id: str | None, hint: str | None
    ) -> list[dict[str, Any]]:
        submitted = await find_application(tracker, editable=False)
        # Words that ask something (旅行社的许可证是哪个部门发), read as sending a material: the documents'
        # answer first, then where they stand.
        answered = not file_id and await answer_question(dispatcher, latest_text(tracker), self.backend)
        if submitted is not None:
            dispatcher.utter_message(
                text=("收到文件了。" if file_id else "")
                + f"您的申请 {submitted['code']} 当前为“{submitted['status_label']}”，"
                "暂时不需要上传材料；如果部门要求补正，我会通知您。",
                buttons=progress_buttons(),
            )
            return [SlotSet("file_id", None), SlotSet("file_material", None)]
        if answered:
            dispatcher.utter_message(
                text="如需上传材料，要先创建申请：回复“我要申请”就可以开始。",
                buttons=[button("我要申请", "/start_application"), button("列材料清单", "/start_checklist")],
            )
            return []
        events: list[dict[str, Any]] = [SlotSet("file_id", file_id), SlotSet("material_hint", hint)]
        if file_id:
            # A hint may be a material id from an earlier button: no application here to name it by.
            text = (
                f"收到您发来的“{hint}”了。" if hint and not hint.isascii() else "收到您发来的文件了。"
            ) + "您还没有创建申请，回复“我要申请”创建后，我会自动把这份文件登记进去。"
            # material_hint is emptied by the next message ("我要申请"): the name goes with the photo.
            events.append(SlotSet("file_material", {"file_id": file_id, "material": hint} if hint else None))
        else:
            text = "上传材料前需要先创建申请。回复“我要申请”就可以开始，或者先让我帮您列一份材料清单。"
        dispatcher.utter_message(
            text=text,
            buttons=[button("我要申请", "/start_application"), button("列材料清单", "/start_checklist")],
        )
        return events


def filed_elsewhere(
    application: dict[str, Any], material: dict[str, Any], file_id: str
) -> dict[str, Any] | None:
    """The other material this very file is filed as already: the backend gives one person's identical
    upload the same file id, so the same photo sent again names the same id."""
    return next(
        (
            m
            for m in application["materials"]
            if m["material_id"] != material["material_id"] and file_id in (m.get("file_ids") or [])
        ),
        None,
    )


def same_file(
    dispatcher: CollectingDispatcher,
    code: str,
    material: dict[str, Any],
    other: dict[str, Any],
    file_id: str,
) -> list[dict[str, Any]]:
    """One photo never stands for two materials: say so instead of filing it twice; the next photo goes
    to the material meant."""
    dispatcher.utter_message(
        text=f"这张和已登记为【{other['name']}】的是同一份文件，没有再登记为【{material['name']}】。"
        f"请发【{material['name']}】本身的照片或扫描件。"
        f"如果之前登记为【{other['name']}】是错的，回复“发错了”就能把它从【{other['name']}】中撤回。"
    )
    return [
        SlotSet("file_id", None),
        SlotSet("material_hint", material["material_id"]),
        SlotSet("application_code", code),
        # "发错了" next refers to the earlier filing: this photo is the one it named, and it was meant
        # for this material.
        filed_slot(code, other["material_id"], file_id, meant=material["material_id"]),
    ]


def file_warnings(
    application: dict[str, Any], material_id: str, file_id: str, *, can_add: bool = True
) -> list[str]:
    """What the backend noticed about the photo just filed (blurry, dark), and how to put it right: a
    material the reviewers cannot read comes back as a correction, days later. `can_add`: whether another
    photo of it is still taken now (before acceptance; after it, only what was promised for later is)."""
    attached = next((m for m in application["materials"] if m["material_id"] == material_id), {})
    noticed = [
        str(warning)
        for stored in attached.get("files") or []
        if stored.get("file_id") == file_id
        for warning in stored.get("warnings") or []
    ]
    if not noticed:
        return []
    how = "在光线充足的地方把材料平放，拍全整页（四个角都拍进来）"
    files = attached.get("files") or []
    poor = [f for f in files if f.get("warnings")]
    if can_add and len(poor) == len(files):
        # A retake without warnings replaces every poor photo of the material (the backend's rule); said
        # before the photo, the name keeps the retake from being filed as the next material.
        which = "这张" if len(poor) == 1 else f"这 {len(poor)} 张"
        advice = (
            f"重拍时请{how}；发送前先说一声“这是{attached['name']}”，再直接发新照片就行，"
            f"清晰的新照片会替换掉{which}不清晰的，不用先删除，免得审核时看不清再要求补正。"
        )
        if len(poor) > 1:
            advice += "这份材料有几页，请每一页都重拍发来。"
    elif can_add:
        # Sharp pages are there too: a retake is one more page, so the poor one is taken back by name.
        advice = (
            f"重拍时请{how}；发送前先说一声“这是{attached['name']}”。"
            "这张不清晰的可以回复“删掉刚才那张”撤回，免得审核时看不清再要求补正。"
        )
    else:
        advice = (
            f"这份材料已经登记，现在不能再换照片；如果审核部门看不清，会通知您重新提交，到时请{how}再发。"
        )
    return ["请注意：" + "".join(noticed), advice]


def filed_slot(code: str, material_id: str, file_id: str, meant: str | None = None) -> dict[str, Any]:
    """Which photo was just filed as which material: what "发错了" in the next message takes back.
    `meant`: the material the applicant sent it for, when it was not filed again as that one."""
    filed = {"application_code": code, "material_id": material_id, "file_id": file_id}
    if meant:
        filed["meant"] = meant
    return SlotSet(FILED, filed)


def retake_line(material: dict[str, Any], updated: dict[str, Any]) -> list[str]:
    """Says so when the file just filed took the place of poor photos (the backend's rule for a retake)."""
    after = next((m for m in updated["materials"] if m["material_id"] == material["material_id"]), {})
    kept = set(after.get("file_ids") or [])
    replaced = [f for f in material.get("files") or [] if f["file_id"] not in kept]
    if not replaced or not all(f.get("warnings") for f in replaced):
        return []
    which = "那张" if len(replaced) == 1 else f" {len(replaced)} 张"
    return [f"清晰的新照片已替换之前{which}不清晰的照片。"]


async def take_back(
    dispatcher: CollectingDispatcher, api: Backend, tracker: Tracker, filed: dict[str, str]
) -> list[dict[str, Any]]:
    """发错了 / 刚才那张不对, right after a photo was filed: the photo leaves the material (the backend
    keeps it stored), and the applicant hears what the material still needs."""
    code, material_id, file_id = filed["application_code"], filed["material_id"], filed["file_id"]
    events: list[dict[str, Any]] = [SlotSet(FILED, None), SlotSet("application_code", code)]
    try:
        updated = await api.remove_material_file(applicant_of(tracker), code, material_id, file_id)
    except BackendRefused as refused:
        if refused.status == 404:
            text = "刚才那张照片已经不在申请里了，不用再删除。回复“还缺什么材料”可以查看现在的材料情况。"
        else:
            text = f"{refused.message}。如果确实发错了，可以回复“转人工”，请工作人员帮您处理。"
        dispatcher.utter_message(text=text)
        return events
    material = next(m for m in updated["materials"] if m["material_id"] == material_id)
    name = material["name"]
    lines = [f"好的，刚才那张照片已从【{name}】中删除。"]
    meant = next((m for m in updated["materials"] if m["material_id"] == filed.get("meant")), None)
    if meant is not None:
        # Taken back because it was sent for another material: sent again, it is filed as that one.
        lines.append(f"如果这张其实是【{meant['name']}】，请再发一次，我会登记为【{meant['name']}】。")
        events.append(SlotSet("material_hint", meant["material_id"]))
        dispatcher.utter_message(
            text="\n".join(lines), buttons=[button("还缺什么材料", "/ask_missing_materials")]
        )
        return events
    if material["status"] == "provided":
        # Still handed in: other pages remain (without them the material is missing again).
        pages = len(material.get("file_ids") or [])
        lines.append(f"【{name}】还有另外 {pages} 页，仍算已提交，不受影响。")
        lines.append(f"如果还要补拍一页，发之前说一声“这是{name}”，再直接发照片就行。")
    else:
        if material["status"] == "needs_reupload":
            problem = f"：{material['problem']}" if material.get("problem") else ""
            lines.append(f"【{name}】还需要按审批部门的要求重新提交{problem}。")
        else:
            lines.append(f"【{name}】现在还没有提交。")
        lines.append(
            f"请直接发正确的照片或扫描件，我会登记为【{name}】（拍全四角，避免反光）。"
            "如果刚才那张其实是别的材料，先说一声“这是……”再发。"
        )
        # The next photo is this material, unless the applicant names another first.
        events.append(SlotSet("material_hint", material_id))
    dispatcher.utter_message(
        text="\n".join(lines), buttons=[button("还缺什么材料", "/ask_missing_materials")]
    )
    return events


# --- 容缺后补 / 告知承诺 for one material -------------------------------------------------------------------

COMMITMENT_NAMES = {"later": "容缺后补", "pledge": "告知承诺"}
PLEDGE_MEANING = (
    "告知承诺：审批部门告知这份材料要证明的条件，您书面承诺已经符合，就不用再提交这份材料；"
    "承诺情况纳入信用记录，事后会核查，承诺不实的要承担相应责任（如撤销许可）。"
)


def commitment_payload(material_id: str, kind: str | None = None) -> str:
    entities = {"material_hint": material_id, **({"commitment_kind": kind} if kind else {})}
    return f"/commit_material{json.dumps(entities, ensure_ascii=False)}"


def commitment_choices(material: dict[str, Any]) -> list[str]:
    """What the backend takes for this material now, instead of the material itself."""
    return [
        kind
        for kind, allowed in (
            ("later", material.get("can_supply_later")),
            ("pledge", material.get("can_pledge")),
        )
        if allowed
    ]


def choice_line(material: dict[str, Any], kind: str) -> str:
    if kind == "later":
        by = material.get("supply_later_by")
        due = f"，{short_date(by)}前补交" if by else "，在规定期限内补交"
        return f"· 容缺后补：先受理，材料后交{due}（到期前我会提醒您）。"
    return "· " + PLEDGE_MEANING


class ActionCommitMaterial(BackendAction):
    """设施设备清单后面再补可以吗 / 燃气证明用告知承诺: what the backend allows for that material
    (容缺后补 with its deadline, 告知承诺 with what it means), and the applicant's choice — a button, or
    said outright."""

    def name(self) -> str:
        return "action_commit_material"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        text = latest_text(tracker)
        hint = latest_entity(tracker, "material_hint") or commitment_subject(text) or None
        kind = latest_entity(tracker, "commitment_kind") or commitment_kind(text)
        application = await find_application(tracker, editable=True)
        if application is None:
            await self._not_now(dispatcher, tracker, hint)
            return [SlotSet("material_hint", None)]
        code = application["code"]
        events: list[dict[str, Any]] = [SlotSet("material_hint", None), SlotSet("application_code", code)]
        material, candidates = match_material(application["materials"], hint) if hint else (None, [])
        if material is None:
            self._which(dispatcher, application, hint, candidates)
            return events
        name = material["name"]
        if material["status"] == "provided":
            dispatcher.utter_message(text=f"【{name}】已经提交了，不需要容缺后补或告知承诺。")
            return events
        choices = commitment_choices(material)
        if not choices:
            why = (
                "是审批部门要求补正的材料，需要重新提交"
                if material["status"] == "needs_reupload"
                else "是关键材料，不能容缺后补，也不适用告知承诺，受理时必须提交"
            )
            dispatcher.utter_message(text=f"【{name}】{why}。" + upload_hint(material))
            # The photo that follows is this material.
            return [SlotSet("material_hint", material["material_id"]), SlotSet("application_code", code)]
        current = material.get("commitment")
        if kind is not None and kind == current:
            dispatcher.utter_message(text=f"【{name}】已经按{COMMITMENT_NAMES[kind]}办理了。")
            return events
        # A button, or a plain "…后面再补" decides; a question ("…可以吗") is answered with the choices.
        decided = is_command(text) or not asks_whether(text)
        if kind in choices and decided:
            updated = await self.backend.commit_material(applicant, code, material["material_id"], kind)
            self._committed(dispatcher, updated, material["material_id"], kind)
            return events
        lines = []
        if kind is not None and kind not in choices:
            lines.append(f"【{name}】不能{COMMITMENT_NAMES[kind]}，但可以这样办：")
        else:
            lines.append(f"【{name}】可以这样办：")
        lines += [choice_line(material, choice) for choice in choices]
        lines.append("请选一种；也可以直接上传这份材料。")
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                button(COMMITMENT_NAMES[choice], commitment_payload(material["material_id"], choice))
                for choice in choices
            ],
        )
        return events

    def _committed(
        self, dispatcher: CollectingDispatcher, application: dict[str, Any], material_id: str, kind: str
    ) -> None:
        material = next(m for m in application["materials"] if m["material_id"] == material_id)
        if kind == "later":
            deadline = material.get("commitment_deadline")
            by = f"请在{short_date(deadline)}前补交" if deadline else "请在规定期限内补交"
            lines = [
                f"好的，【{material['name']}】按容缺后补办理：受理不等这份材料，{by}，到期前我会提醒您。"
            ]
        else:
            lines = [
                f"好的，【{material['name']}】按告知承诺办理，不用再提交这份材料。"
                "承诺情况纳入信用记录，事后会核查，请确保属实。"
            ]
        missing = unsatisfied(application)
        buttons: Buttons = []
        if not missing:
            lines.append("现在需要的材料都齐了，确认无误后就可以提交申请。")
            buttons = [button("提交申请", "/submit_application")]
        elif not any(must_supply(m) for m in missing):
            lines.append("剩下的都是非关键材料，可以容缺后补，现在就能提交。")
            buttons = [button("提交申请", "/submit_application")]
        else:
            lines.append(f"还差 {len(missing)} 份。下一份" + upload_hint(missing[0]))
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)

    def _which(
        self,
        dispatcher: CollectingDispatcher,
        application: dict[str, Any],
        hint: str | None,
        candidates: list[dict[str, Any]],
    ) -> None:
        """No material named (or not one on the list): the ones that may wait or be promised, to pick."""
        pool = candidates or unsatisfied(application)
        open_ = [m for m in pool if m["status"] != "provided" and commitment_choices(m)]
        unknown = f"您的申请清单里没有“{hint}”这一项。" if hint and not candidates else ""
        if not open_:
            dispatcher.utter_message(
                text=unknown + f"申请 {application['code']} 还缺的材料都需要提交，不能容缺后补或告知承诺。"
                "回复“还缺什么材料”可以查看清单。"
            )
            return
        lines = [unknown + "想把哪份材料容缺后补或告知承诺？可以选的有："]
        lines += [
            f"· {m['name']}：可" + "、可".join(COMMITMENT_NAMES[c] for c in commitment_choices(m))
            for m in open_[:8]
        ]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[button(m["name"], commitment_payload(m["material_id"])) for m in open_[:8]],
        )

    async def _not_now(self, dispatcher: CollectingDispatcher, tracker: Tracker, hint: str | None) -> None:
        """No application to choose for: after acceptance it is too late; before applying, the checklist
        says what the material allows."""
        submitted = await find_application(tracker, editable=False)
        if submitted is not None and submitted["status"] in DELIVERABLE:
            dispatcher.utter_message(
                text=f"申请 {submitted['code']} 已经受理，容缺后补和告知承诺要在提交前选择，现在不能再改了。"
                + ("\n" + after_acceptance(submitted) if owed(submitted) else ""),
                buttons=progress_buttons(),
            )
            return
        package_id = tracker.get_slot("industry")
        item = None
        if package_id and hint:
            checklist = await self.backend.checklist(package_id, stored_answers(tracker, package_id))
            item, _ = match_material(checklist["materials"], hint)
        if item is None:
            text = (
                "非关键材料可以容缺后补（先受理，规定期限内补交）；目录允许的材料还可以告知承诺（书面承诺符合条件，"
                "不再提交这份材料）。列出材料清单就能看到每份材料能不能这样办，创建申请后告诉我即可。"
            )
        else:
            ways = [] if item["key"] else ["容缺后补（先受理，规定期限内补交）"]
            if item.get("commitment_covers"):
                ways.append("告知承诺（书面承诺符合条件，不再提交这份材料）")
            text = (
                f"【{item['name']}】可以" + "，也可以".join(ways) + "。"
                if ways
                else f"【{item['name']}】是关键材料，受理时必须提交，不能容缺后补或告知承诺。"
            )
            if ways:
                text += f"创建申请后告诉我，例如“{item['name']}后面再补”。"
        dispatcher.utter_message(
            text=text,
            buttons=[button("我要申请", "/start_application"), button("列材料清单", "/start_checklist")],
        )


# --- what is missing ---------------------------------------------------------------------------------------


class ActionShowMissingMaterials(BackendAction):
    def name(self) -> str:
        return "action_show_missing_materials"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        application = await find_receiving(tracker) or await find_application(tracker, editable=False)
        if application is None:
            return await self._before_applying(dispatcher, tracker)
        code = application["code"]
        events = [SlotSet("application_code", code)]
        if application["status"] not in EDITABLE:
            dispatcher.utter_message(
                text=after_acceptance(application), buttons=[button("办理进度", "/ask_progress")]
            )
            return events
        lines = [f"申请 {code}（{application['package_name']}·{application['operation_label']}）的材料情况："]
        lines += [material_line(m) for m in application["materials"]]
        notice = application.get("correction_notice")
        if notice:
            lines += ["", notice["message"]]
        missing = unsatisfied(application)
        buttons: Buttons = []
        if not missing:
            promised = owed(application)
            if application["tasks"]:
                lines.append("要求补正的材料都已重新提交，可以再次提交了。")
            elif promised:
                lines.append("现在需要的材料都已收到，可以提交了。")
            else:
                lines.append("材料已经齐全，可以提交了。")
            if promised:
                lines.append("标为“容缺后补”的材料，请在上面写的期限内补交。")
            buttons = [button("提交申请", "/submit_application")]
        elif not any(must_supply(m) for m in missing):
            lines.append("剩下的都是非关键材料，可以容缺后补：提交时确认即可，受理后在规定期限内补交。")
            buttons = [button("提交申请", "/submit_application")]
        else:
            lines += ["", upload_hint(missing[0])]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)
        if application.get("notice_url"):
            dispatcher.utter_message(image=backend().image_url(application["notice_url"]))
        return events

    async def _before_applying(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        package_id = tracker.get_slot("industry")
        if not package_id:
            dispatcher.utter_message(
                text="您还没有在办的申请。告诉我您准备开什么店，我先帮您列一份材料清单。",
                buttons=[button("列材料清单", "/start_checklist")],
            )
            return []
        checklist = await self.backend.checklist(package_id, stored_answers(tracker, package_id))
        lines = [f"您还没有创建申请。按目前的回答，开办“{checklist['package_name']}”需要准备："]
        lines += [
            f"· {m['name']}" + ("" if m["key"] else "（非关键，可容缺后补）") for m in checklist["materials"]
        ]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[button("开始申请", "/start_application"), button("完整清单", "/start_checklist")],
        )
        return []


def after_acceptance(application: dict[str, Any]) -> str:
    """What a submitted application still needs from the applicant: only what was promised for later."""
    code = application["code"]
    status = f"申请 {code} 当前为“{application['status_label']}”"
    if application["status"] not in DELIVERABLE:
        return f"{status}，不需要再提交材料。对结果有疑问的话，可以回复“人工服务”咨询。"
    pending = owed(application)
    if not pending:
        text = f"{status}，材料已经全部交齐，没有需要补交的容缺材料。"
        if application["status"] != "completed":
            text += "如果部门要求补正，我会第一时间通知您。"
        return text
    how = (
        f"直接在对话框里发照片或扫描件即可，我会登记为【{pending[0]['name']}】。"
        if len(pending) == 1
        else f"直接在对话框里发照片或扫描件即可；发之前说一声是哪份材料（如“这是{pending[0]['name']}”），"
        "不说的话我会问您。"
    )
    return (
        f"{status}。以下 {len(pending)} 份容缺后补的材料还需要在期限内补交：\n"
        + "\n".join(owed_line(m) for m in pending)
        + "\n\n"
        + how
    )


# --- submitting ------------------------------------------------------------------------------------------

CONFIRMING = "confirming"


class ActionSubmitApplication(BackendAction):
    """提交 → a summary and a confirmation question; 确认 → commitments for non-key gaps, then submit."""

    def name(self) -> str:
        return "action_submit_application"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        # Typing the button's own words ("确认提交") reads as another submit: after the question, a yes.
        confirmed = tracker.get_slot(CONFIRMING) == "submit" and latest_intent(tracker) in (
            "affirm",
            "submit_application",
        )
        application = await find_application(tracker, editable=True)
        if application is None:
            latest = await find_application(tracker, editable=False)
            if latest is not None and latest["status"] == "rejected":
                # "重新提交" after a refusal: a new application, not the refused one again.
                dispatcher.utter_message(
                    text=f"申请 {latest['code']} 的审批结果是“不予许可”，不能再次提交。" + REAPPLY_HOW,
                    buttons=[button("重新申请", "/reapply"), button("办理进度", "/ask_progress")],
                )
            elif latest is not None:
                dispatcher.utter_message(
                    text=f"申请 {latest['code']} 已经提交过了，"
                    f"当前为“{latest['status_label']}”，无需再次提交。",
                    buttons=[button("办理进度", "/ask_progress")],
                )
            else:
                dispatcher.utter_message(
                    text="您还没有可以提交的申请。回复“我要申请”即可开始。",
                    buttons=[button("我要申请", "/start_application")],
                )
            return [SlotSet(CONFIRMING, None)]
        code = application["code"]
        events: list[dict[str, Any]] = [SlotSet("application_code", code), SlotSet(CONFIRMING, None)]
        missing = unsatisfied(application)
        key_missing = [m for m in missing if must_supply(m)]
        if key_missing:
            asked = any(m["status"] == "needs_reupload" for m in key_missing)
            dispatcher.utter_message(
                text=f"申请 {code} "
                + (
                    "还有部门要求补正的材料，重新提交后才能继续审批"
                    if asked
                    else "还缺少关键材料，补齐后才能受理"
                )
                + "：\n"
                + "\n".join(material_line(m) for m in key_missing)
                + "\n\n"
                + upload_hint(key_missing[0])
            )
            return events
        if application["operation"] == "open":
            checklist = await self.backend.checklist(application["package_id"], application["answers"])
            if checklist["unanswered"]:
                dispatcher.utter_message(
                    text=f"提交前还需要回答 {len(checklist['unanswered'])} 个问题（决定需要办哪些许可）。",
                    buttons=[button("现在回答", "/start_checklist")],
                )
                return events
        later = [m for m in missing if not m["key"]]
        if not confirmed:
            lines = [
                f"即将提交申请 {code}（{application['package_name']}·{application['operation_label']}）。",
                "；".join(
                    f"{label}：{application['applicant'].get(field) or '（未填）'}"
                    for field, label in (
                        ("operator_name", "名称"),
                        ("legal_representative", "法定代表人"),
                        ("address", "地址"),
                    )
                ),
            ]
            changes = application.get("changes") or {}
            if application["operation"] == "change" and changes:
                # The applicant data above is the licence's current one; what is asked for is the change.
                lines.append(
                    "变更内容："
                    + "；".join(
                        f"{CHANGED_FIELD_LABELS.get(field, field)}改为“{value}”"
                        for field, value in changes.items()
                    )
                )
            if later:
                lines.append("以下非关键材料还没上传，提交时将按“容缺后补”办理，受理后请在规定期限内补交：")
                lines += [f"· {m['name']}" for m in later]
            pledged = [m for m in application["materials"] if m["status"] == "pledged"]
            if pledged:
                lines.append("以下材料按“告知承诺”办理，您的承诺随申请一并提交：")
                lines += [f"· {m['name']}" for m in pledged]
            lines.append("确认提交吗？")
            dispatcher.utter_message(
                text="\n".join(lines),
                buttons=[button("确认提交", "/affirm"), button("暂不提交", "/deny")],
            )
            return [SlotSet("application_code", code), SlotSet(CONFIRMING, "submit")]
        for material in later:
            await self.backend.commit_material(applicant, code, material["material_id"])
        result = await self.backend.submit(applicant, code)
        if result["status"] == "needs_correction":
            notice = result.get("correction_notice") or {}
            dispatcher.utter_message(
                text=f"申请 {code} 已提交，但还不能受理。{notice.get('message', '')}",
                buttons=[button("还缺什么材料", "/ask_missing_materials")],
            )
            if result.get("notice_url"):
                # The one-time notice (一次性告知单) as a picture: every material with its status, at once.
                dispatcher.utter_message(image=backend().image_url(result["notice_url"]))
        else:
            dispatcher.utter_message(
                text=f"提交成功！申请 {code} 已受理，{approval_order(result['tasks'])}，"
                f"{within(result['promised_days'])}。每一步进展我都会通知您，"
                "也可以随时回复“办理进度”查看。",
                buttons=[button("办理进度", "/ask_progress")],
            )
            if owed(result):
                dispatcher.utter_message(
                    text="别忘了在期限内补交容缺的材料，回复“还缺什么材料”可以查看截止日期。"
                )
        return events


# --- reapplying after a refusal ----------------------------------------------------------------------------

REAPPLY_HOW = "整改好后回复“重新申请”，我会用原来的信息和材料为您新建一份申请。"


def refusal_line(application: dict[str, Any]) -> str:
    """Which department refused which permit, and why: what the applicant has to put right."""
    refused = next((t for t in application["tasks"] if t["status"] == "rejected"), None)
    if refused is None:
        return ""
    line = f"【{refused['department_name']}】{refused['licence_name']}：不予许可"
    return line + (f"，理由：{refused['reason']}" if refused.get("reason") else "")


class ActionReapply(BackendAction):
    """重新申请 after a refusal (不予许可): a new draft from the newest refused application, with its answers,
    business details and materials, then what to put right and how to submit."""

    def name(self) -> str:
        return "action_reapply"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        listed = sorted(
            await self.backend.applications(applicant), key=lambda a: a["created_at"], reverse=True
        )
        said = latest_entity(tracker, "application_code")
        wanted = application_code(said) or said if said else None
        refused = [a for a in listed if a["status"] == "rejected"]
        original = next((a for a in refused if a["code"] == wanted), None) or next(iter(refused), None)
        if original is None:
            return self._nothing_refused(dispatcher, listed)
        had_draft = any(a.get("previous_code") == original["code"] for a in listed)
        try:
            application = await self.backend.reapply(applicant, original["code"])
        except BackendRefused as refused_now:
            if refused_now.code != "already_reapplied":
                raise
            # Reapplied and already submitted: its progress is what to look at now.
            dispatcher.utter_message(text=refused_now.message, buttons=[button("办理进度", "/ask_progress")])
            return []
        code = application["code"]
        carried = [m for m in application["materials"] if m["status"] == "provided"]
        lines = [
            f"您已经为申请 {original['code']} 新建过一份申请，统一编码 {code}，我们接着办。"
            if had_draft
            else f"已为您重新申请，新的统一编码：{code}（原申请 {original['code']} 不予许可）。",
            "原来的问卷回答、经营者信息"
            + (f"和已提交的 {len(carried)} 份材料都已带过来，不用重新上传。" if carried else "都已带过来。"),
        ]
        reason = refusal_line(original)
        if reason:
            lines += ["", "请先按审批意见整改：", reason]
        lines.append(
            "需要更换的材料，直接发新的照片或扫描件，并说一声是哪份（如“这是"
            f"{(carried or application['materials'])[0]['name']}”）。"
        )
        missing = unsatisfied(application)
        if missing:
            lines += ["", f"还需要补充 {len(missing)} 份材料：", *(material_line(m) for m in missing)]
            if not any(must_supply(m) for m in missing):
                lines.append("这些是非关键材料，可以容缺后补，提交时确认即可。")
        lines += ["", "整改好、材料齐了，回复“提交申请”就可以再次提交，我会先请您确认。"]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                button("提交申请", "/submit_application"),
                button("还缺什么材料", "/ask_missing_materials"),
            ],
        )
        return [SlotSet("application_code", code), SlotSet("operation", application["operation"])]

    @staticmethod
    def _nothing_refused(
        dispatcher: CollectingDispatcher, listed: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        correcting = next((a for a in listed if a["status"] == "needs_correction"), None)
        if correcting is not None:
            # "重新提交" after a correction request: the same application goes on, nothing new is needed.
            dispatcher.utter_message(
                text=f"申请 {correcting['code']} 只是需要补正，不用重新申请：按一次性告知补齐材料后，"
                "回复“提交申请”即可继续办理。",
                buttons=[
                    button("还缺什么材料", "/ask_missing_materials"),
                    button("提交申请", "/submit_application"),
                ],
            )
            return [SlotSet("application_code", correcting["code"])]
        lines = ["重新申请适用于审批结果为“不予许可”的申请，您目前没有这样的申请。"]
        if not listed:
            lines.append("您还没有申请记录。想开店办证的话，我可以先帮您列一份材料清单，或者直接开始申请。")
            dispatcher.utter_message(
                text="\n".join(lines),
                buttons=[button("列材料清单", "/start_checklist"), button("我要申请", "/start_application")],
            )
            return []
        lines.append("您的申请：")
        lines += [
            f"· {a['package_name']}·{a['operation_label']} {a['code']}：{a['status_label']}"
            for a in listed[:5]
        ]
        dispatcher.utter_message(text="\n".join(lines), buttons=[button("办理进度", "/ask_progress")])
        return []


# --- progress --------------------------------------------------------------------------------------------


def approval_order(tasks: list[dict[str, Any]]) -> str:
    """Whether every department starts now, or some wait for the business registration (`waiting`)."""
    if any(t.get("status") == "waiting" for t in tasks):
        return "营业执照登记完成后，其他部门再同步审批"
    return "各部门同步审批"


def task_line(task: dict[str, Any]) -> str:
    line = f"· {task['department_name']}｜{task['licence_name']}：{task['status_label']}"
    if task["status"] in ("pending", "waiting", "inspection_scheduled", "correction_requested"):
        if task.get("inspection_date") and task["status"] == "inspection_scheduled":
            # The backend words the day as the notices do: 12月5日（周六）.
            day = task.get("inspection_day") or short_date(task["inspection_date"])
            line += f"，现场核查安排在 {day}"
        if task.get("due_date"):
            line += f"，预计 {short_date(task['due_date'])} 前办结"
        if task.get("overdue"):
            line += "（已超过承诺时限，我们会督促办理）"
    if task.get("reason") and task["status"] in ("correction_requested", "rejected"):
        line += f"\n  原因：{task['reason']}"
    return line


class ActionShowProgress(BackendAction):
    def name(self) -> str:
        return "action_show_progress"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        said = latest_entity(tracker, "application_code")
        if said:
            code = application_code(said) or said
            try:
                application = await self.backend.application(applicant, code)
            except BackendRefused as refused:
                if refused.status != 404:
                    raise
                dispatcher.utter_message(
                    text=f"没有找到编码为 {code} 的申请。请核对编码（格式如 ZL-20250312-7K3M9Q），"
                    "只能查询您本人提交的申请。"
                )
                return []
            return self._show(dispatcher, tracker, application)
        applications = await self.backend.applications(applicant)
        if not applications:
            # Asked as a question (怎么查办理进度, 审批结果怎么领), it is mostly someone asking how it works
            # before applying: the documents' answer first, then where they stand.
            await answer_question(dispatcher, latest_text(tracker), self.backend)
            dispatcher.utter_message(
                text="您目前还没有申请记录。想开店办证的话，我可以先帮您列一份材料清单。",
                buttons=[button("列材料清单", "/start_checklist"), button("我要申请", "/start_application")],
            )
            return []
        if len(applications) == 1:
            return self._show(dispatcher, tracker, applications[0])
        applications.sort(key=lambda a: a["created_at"], reverse=True)
        dispatcher.utter_message(
            text=f"您有 {len(applications)} 份申请，想查看哪一份？",
            buttons=[
                button(
                    f"{a['package_name']}·{a['operation_label']} {a['code']}（{a['status_label']}）",
                    f'/ask_progress{{"application_code": "{a["code"]}"}}',
                )
                for a in applications[:8]
            ],
        )
        return []

    def _show(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, application: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = application["code"]
        status = application["status"]
        lines = [
            f"申请 {code}（{application['package_name']}·{application['operation_label']}）"
            f"当前状态：{application['status_label']}"
        ]
        buttons: Buttons = []
        events: list[dict[str, Any]] = [SlotSet("application_code", code)]
        if status == "draft":
            missing = unsatisfied(application)
            lines.append(
                "还没有提交。"
                + (f"还需要上传 {len(missing)} 份材料。" if missing else "材料已齐全，可以提交了。")
            )
            buttons = [
                button("还缺什么材料", "/ask_missing_materials"),
                button("提交申请", "/submit_application"),
            ]
        elif status == "needs_correction" and not application["tasks"]:
            notice = application.get("correction_notice") or {}
            lines.append(notice.get("message") or "材料还不齐全，补齐后即可受理。")
            buttons = [button("还缺什么材料", "/ask_missing_materials")]
        if application["tasks"]:
            lines.append("各部门办理情况：")
            lines += [task_line(task) for task in application["tasks"]]
            if status in ("accepted", "in_review", "needs_correction"):
                lines.append(f"全部{within(application['promised_days'])}。")
        if status == "rejected":
            lines.append(REAPPLY_HOW)
            buttons = [button("重新申请", "/reapply"), button("转人工", "/request_human")]
        if status == "completed":
            number = application.get("licence_number")
            lines.append(
                "已全部办结！"
                + (f"行业综合许可证编号 {number}，回复“亮证”即可查看证照和二维码。" if number else "")
            )
            buttons = [button("亮证", "/show_licence")]
        promised = owed(application) if application["status"] in DELIVERABLE else []
        if promised:
            first = promised[0]
            due = (
                f"，最早一份{short_date(first['commitment_deadline'])}到期"
                if first.get("commitment_deadline")
                else ""
            )
            lines.append(f"另有 {len(promised)} 份容缺后补的材料待补交{due}，回复“还缺什么材料”可以查看。")
            buttons = [*buttons, button("还缺什么材料", "/ask_missing_materials")]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)
        if status == "completed" and tracker.get_slot("rating_application") != code:
            ask_for_score(dispatcher)
            events.append(SlotSet("rating_application", code))
        return events
