"""The comprehensive licence (行业综合许可证): showing it (亮证: the card picture with its QR code and the
verification link), and starting a change (联合变更) or a cancellation (联合注销) of it.

A change or cancellation is an application too: the backend lists its materials (config/lifecycle.yaml)
and the applicant uploads and submits them the same way as when opening.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.applications import CHANGED_FIELD_LABELS, guide_uploads, idempotency_key
from actions.backend import BackendUnavailable, backend
from actions.dialogue import (
    BUSY,
    BackendAction,
    applicant_of,
    button,
    last_bot_text,
    latest_entity,
    latest_text,
    said_since_user_spoke,
)
from actions.parsing import bare_value, licence_number
from actions.policy import answer_question

log = logging.getLogger(__name__)

INACTIVE = ("revoked", "cancelled", "expired")
# change_item entity values (nlu_data/nlu/synonyms.yml) → the backend's LicenceChanges fields.
CHANGE_FIELDS = {
    "address": "address",
    "legal_representative": "legal_representative",
    "name": "operator_name",
}
# change_item → what actions.parsing.bare_value strips around it.
VALUE_KINDS = {"address": "address", "legal_representative": "person", "name": "name"}
CHANGE_LABELS = {item: CHANGED_FIELD_LABELS[field] for item, field in CHANGE_FIELDS.items()} | {
    "scope": "经营范围"
}


def active(licences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lic for lic in licences if lic["status"] not in INACTIVE]


NO_LICENCE = "名下目前还没有有效的行业综合许可证"


async def no_licence_yet(dispatcher: CollectingDispatcher, tracker: Tracker, verb: str) -> None:
    """Nothing to change or cancel yet. Asked as a question (股东变了要去变更吗, 公司不开了要跑哪些地方注销),
    it is mostly someone asking how it works: the documents' answer first, then where they stand."""
    if await answer_question(dispatcher, latest_text(tracker), backend()):
        dispatcher.utter_message(text=f"您{NO_LICENCE}。等拿到证以后需要{verb}，随时跟我说就行。")
        return
    dispatcher.utter_message(
        text=f"您{NO_LICENCE}，暂时无法办理{verb}。如果是开店办证，回复“我要申请”；如有疑问可以回复“转人工”。"
    )


async def chosen_licence(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, intent: str, verb: str
) -> dict[str, Any] | None:
    """The licence to change or cancel: the only active one, or the one named; asks when unclear."""
    licences = active(await backend().licences(applicant_of(tracker)))
    if not licences:
        await no_licence_yet(dispatcher, tracker, verb)
        return None
    wanted = licence_number(latest_entity(tracker, "licence_number") or tracker.get_slot("licence_number"))
    for lic in licences:
        if lic["number"] == wanted:
            return lic
    if len(licences) == 1:
        return licences[0]
    dispatcher.utter_message(
        text=f"您有 {len(licences)} 张许可证，要{verb}哪一张？",
        buttons=[
            button(
                f"{lic['operator_name']} {lic['number']}", f'/{intent}{{"licence_number": "{lic["number"]}"}}'
            )
            for lic in licences[:8]
        ],
    )
    return None


class ActionShowLicence(BackendAction):
    """亮证: the card picture (with the QR code) and the verification link of each licence."""

    def name(self) -> str:
        return "action_show_licence"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        applicant = applicant_of(tracker)
        licences = await self.backend.licences(applicant)
        if not licences:
            # Asked as a question (综合许可证上的二维码能扫出啥), it is mostly someone asking how it works.
            await answer_question(dispatcher, latest_text(tracker), self.backend)
            in_progress = [
                a
                for a in await self.backend.applications(applicant)
                if a["status"] in ("accepted", "in_review")
            ]
            text = "您名下还没有已核发的行业综合许可证。"
            if in_progress:
                text += f"您的申请 {in_progress[0]['code']} 正在审批中，办结后即可在这里亮证。"
            dispatcher.utter_message(text=text, buttons=[button("办理进度", "/ask_progress")])
            return []
        wanted = licence_number(latest_entity(tracker, "licence_number"))
        shown = [lic for lic in licences if lic["number"] == wanted] or sorted(
            licences, key=lambda lic: (lic["status"] in INACTIVE, lic["issued_at"]), reverse=False
        )
        for lic in shown[:3]:
            permits = "、".join(
                p["licence_name"]
                + ("" if p["status_label"] in ("有效", "已批准") else f"（{p['status_label']}）")
                for p in lic["permits"]
            )
            lines = [
                f"行业综合许可证 {lic['number']}（{lic['status_label']}）",
                f"经营者：{lic['operator_name']}｜法定代表人：{lic['legal_representative']}",
                f"地址：{lic['address']}",
                f"包含：{permits}",
            ]
            if lic.get("verification_url"):
                lines.append(f"核验链接：{lic['verification_url']}")
                lines.append(
                    "检查人员扫描证上的二维码，可以实时查看每项许可的状态；任何一项变更，二维码显示的内容都会同步更新。"
                )
            dispatcher.utter_message(text="\n".join(lines))
            if lic.get("card_url"):
                dispatcher.utter_message(image=backend().image_url(lic["card_url"]))
        if len(licences) > 3:
            dispatcher.utter_message(text=f"您共有 {len(licences)} 张许可证，以上是其中 3 张。")
        return []


class ValidateChangeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_change_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            activating = not tracker.get_slot("change_value") and not tracker.get_slot("requested_slot")
            # Activation: without a licence there is nothing to change, so the form ends at once
            # (action_start_change then stays silent because no new value was given).
            if activating and not active(await backend().licences(applicant_of(tracker))):
                await no_licence_yet(dispatcher, tracker, "变更")
                return [SlotSet("change_item", None), SlotSet("requested_slot", None)]
            return await super().run(dispatcher, tracker, domain)
        except BackendUnavailable:
            if not said_since_user_spoke(tracker, BUSY):
                dispatcher.utter_message(text=BUSY)
            return [SlotSet("requested_slot", None)]

    def validate_change_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in CHANGE_FIELDS:
            return {"change_item": value}
        if value == "scope":
            dispatcher.utter_message(
                text="经营范围的变更涉及许可事项的增减，需要窗口工作人员核实后办理。您可以回复“转人工”，"
                "或者选择变更其他内容："
            )
        return {"change_item": None}

    def validate_change_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if text.startswith("/") or len(text) < 2:
            dispatcher.utter_message(text="请直接告诉我变更后的内容，例如新的地址或新法定代表人的姓名。")
            return {"change_value": None}
        # "新地址是兰山区解放路100号" → 兰山区解放路100号: the value goes onto the licence as it is.
        kind = VALUE_KINDS.get(tracker.get_slot("change_item") or "")
        return {"change_value": (bare_value(kind, text) if kind else text)[:300]}


class ActionStartChange(BackendAction):
    def name(self) -> str:
        return "action_start_change"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        item, value = tracker.get_slot("change_item"), tracker.get_slot("change_value")
        if item not in CHANGE_FIELDS or not value:
            return []  # the form ended early and has said why
        licence = await chosen_licence(dispatcher, tracker, intent="change_licence", verb="变更")
        if licence is None:
            return []
        applicant = applicant_of(tracker)
        body = {
            "operation": "change",
            "licence_number": licence["number"],
            "changes": {CHANGE_FIELDS[item]: value},
        }
        application = await self.backend.create_application(
            applicant, body, idempotency_key=idempotency_key(applicant, body)
        )
        dispatcher.utter_message(
            text=f"已为许可证 {licence['number']} 创建变更申请 {application['code']}："
            f"{CHANGE_LABELS[item]}改为“{value}”。各项许可信息会一并变更，二维码显示的内容也会同步更新。"
        )
        await guide_uploads(dispatcher, self.backend, applicant, application)
        return [
            SlotSet("application_code", application["code"]),
            SlotSet("operation", "change"),
            SlotSet("licence_number", licence["number"]),
            SlotSet("change_item", None),
            SlotSet("change_value", None),
        ]


class ActionAskCancelLicence(BackendAction):
    """注销 revokes every permit at once, so it is confirmed first; but only by someone who has a licence.
    Without one, "公司不开了要跑哪些地方注销" asks how cancelling works: the documents' answer, not "确定要
    注销吗？" about a licence that does not exist."""

    def name(self) -> str:
        return "action_ask_cancel_licence"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if active(await self.backend.licences(applicant_of(tracker))):
            dispatcher.utter_message(response="utter_confirm_cancel_licence")
        else:
            await no_licence_yet(dispatcher, tracker, "注销")
        return []


class ActionStartCancel(BackendAction):
    def name(self) -> str:
        return "action_start_cancel"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if NO_LICENCE in last_bot_text(tracker) and not active(
            await self.backend.licences(applicant_of(tracker))
        ):
            # "好的" to action_ask_cancel_licence's "no licence yet" (the confirmation rule brings it here):
            # an acknowledgement, not a request to hear it again.
            dispatcher.utter_message(text="好的。还有其他问题，随时问我。")
            return []
        licence = await chosen_licence(dispatcher, tracker, intent="cancel_licence", verb="注销")
        if licence is None:
            return []
        applicant = applicant_of(tracker)
        body = {"operation": "cancel", "licence_number": licence["number"]}
        application = await self.backend.create_application(
            applicant, body, idempotency_key=idempotency_key(applicant, body)
        )
        dispatcher.utter_message(
            text=f"已为许可证 {licence['number']}（{licence['operator_name']}）"
            f"创建注销申请 {application['code']}。"
            "营业执照和各项许可将联合注销，一次办结。"
        )
        await guide_uploads(dispatcher, self.backend, applicant, application)
        return [
            SlotSet("application_code", application["code"]),
            SlotSet("operation", "cancel"),
            SlotSet("licence_number", licence["number"]),
        ]
