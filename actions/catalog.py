"""Direct answers from the backend catalog: which licences an industry needs (开火锅店要办哪些证) and how
long they take (多久能办好). These answer at once and then *offer* the personalised checklist; nobody is
pushed into a questionnaire to learn what a hot-pot restaurant needs.

Industries arrive as catalog package ids (NLU maps 火锅店/饭馆/小吃店 to ``restaurant`` through
nlu_data/nlu/synonyms.yml), but the catalog's own aliases are the authority, so any surface form NLU
missed is looked up here too.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import Backend, BackendRefused
from actions.dialogue import (
    BackendAction,
    Buttons,
    button,
    is_command,
    latest_entity,
    latest_entity_words,
    latest_text,
)
from actions.policy import SEARCH_LIMIT, SOURCE, answer_found
from actions.questionnaire import stored_answers

# The industries offered as buttons when someone has not said theirs (Suixian pilot industries first).
POPULAR = ("restaurant", "small_shop", "pharmacy", "supermarket", "food_workshop", "bookstore")
# Trailing words that make "火锅店" out of "火锅": people also say "我开火锅的".
_SUFFIXES = ("店", "馆", "厅", "坊", "铺", "房", "公司", "厂", "室", "社", "城")
# Aliases that name a place of business (职业介绍所), not an activity (跑物流) or a product (货车).
_BUSINESS_ENDINGS = (*_SUFFIXES, "所", "站", "部", "吧", "院", "中心")


def _clean(text: str) -> str:
    return re.sub(r"[\s，,。.！!？?、]", "", text).lower()


def _stems(alias: str) -> list[str]:
    words = [alias.lower()]
    for suffix in _SUFFIXES:
        if alias.endswith(suffix) and len(alias) - len(suffix) >= 2:
            words.append(alias[: -len(suffix)].lower())
    return words


async def resolve_package(backend: Backend, value: str | None) -> dict[str, Any] | None:
    """The catalog package an industry value or a free-text reply names, or None."""
    if not value:
        return None
    packages = await backend.packages()
    text = _clean(value)
    for package in packages:
        if text == package["id"].lower() or text in (
            _clean(a) for a in [package["name"], *package["aliases"]]
        ):
            return package
    # The longest alias (or its stem) found inside the text: "我准备开一家小火锅店" → 火锅店.
    found: list[tuple[int, dict[str, Any]]] = []
    for package in packages:
        for alias in [*package["aliases"], package["industry"]]:
            for word in _stems(alias):
                if word and word in text:
                    found.append((len(word), package))
    if not found:
        return None
    found.sort(key=lambda item: -item[0])
    return found[0][1]


async def package_asked_about(
    backend: Backend, said: str | None, text: str | None, earlier: str | None = None
) -> dict[str, Any] | None:
    """The package a question about an industry's licences is about: the industry NLU found (`said`),
    else one named in the words, else the one discussed `earlier` (when the question names none).
    scripts/policy_routes.py asks this too, to score the product's catalog answers."""
    package = await resolve_package(backend, said)
    if package is None and text and not is_command(text):
        package = await resolve_package(backend, text)
    if package is None and said is None:
        package = await resolve_package(backend, earlier)
    return package


async def time_limit_package(
    backend: Backend, said: str | None, earlier: str | None = None
) -> dict[str, Any] | None:
    """The package a time-limit question is about: the industry NLU found, else the one discussed
    `earlier`. Without one, action_time_limit answers from the policy search (scripts/policy_routes.py
    asks this too, to know which questions reach the search)."""
    return await resolve_package(backend, said or earlier)


async def industry_buttons(backend: Backend, intent: str) -> Buttons:
    packages = {p["id"]: p for p in await backend.packages()}
    return [
        button(packages[pid]["name"], f'/{intent}{{"industry": "{pid}"}}')
        for pid in POPULAR
        if pid in packages
    ]


def licences_heading(words: str | None, package: dict[str, Any], text: str | None = None) -> str:
    """ "开火锅店属于“餐饮服务（饭店）”" in the applicant's words. When NLU extracted none, a place of
    business the catalog found in the text will do (开个职业介绍所要啥证); a button's package id, or an
    alias that names no business (货车), gets the package's name alone."""
    shown = words if words and words != package["id"] else None
    if shown is None:
        cleaned = _clean(text or "")
        named = [a for a in package["aliases"] if a.lower() in cleaned and a.endswith(_BUSINESS_ENDINGS)]
        shown = max(named, key=len) if named else None
    if shown is None or shown == package["name"]:
        return f"开办“{package['name']}”需要办理以下证照"
    return f"开{shown}属于“{package['name']}”，需要办理以下证照"


def days(n: int) -> str:
    return "当场办结" if n == 0 else f"{n}个工作日"


def within(n: int) -> str:
    return "当场办结" if n == 0 else f"承诺{n}个工作日内办结"


def in_sequence(checklist: dict[str, Any]) -> str:
    """Why the total is more than the longest single promise: the permits start once registration is done."""
    first = [lic for lic in checklist["licences"] if lic.get("registration_first")]
    if not first or len(first) == len(checklist["licences"]):
        return ""
    return "，即营业执照的时限加上其他许可中最长的一项"


def licence_lines(checklist: dict[str, Any]) -> list[str]:
    return [
        f"{i}. {lic['licence_name']}（{lic['department_name']}，承诺{days(lic['promised_days'])}）"
        for i, lic in enumerate(checklist["licences"], 1)
    ]


class ActionListLicences(BackendAction):
    """开火锅店要办哪些证 → the licences at once, then an offer of the personalised checklist."""

    def name(self) -> str:
        return "action_list_licences"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        said = latest_entity(tracker, "industry")
        words = latest_entity_words(tracker, "industry")
        package = await package_asked_about(
            self.backend, said, latest_text(tracker), tracker.get_slot("industry")
        )
        if package is None:
            if words:
                dispatcher.utter_message(
                    text=f"抱歉，“{words}”暂时不在“证照联办”的行业套餐里，我没法准确告诉您要办哪些证。"
                    "您可以换个常见的叫法再问一次，或者回复“转人工”咨询窗口工作人员。"
                )
            dispatcher.utter_message(
                text="请问您准备开什么店？点下面的行业，或直接告诉我（例如“开火锅店要办哪些证”）：",
                buttons=await industry_buttons(self.backend, "ask_licences_for_industry"),
            )
            return []
        checklist = await self.backend.checklist(package["id"], stored_answers(tracker, package["id"]))
        lines = [
            licences_heading(words, package, latest_text(tracker)) + "，"
            "一窗申请，营业执照办好后各部门并行审批：",
            *licence_lines(checklist),
            f"全部办齐承诺{days(checklist['promised_days'])}（法定{days(checklist['legal_days'])}）"
            f"{in_sequence(checklist)}。",
        ]
        asked = latest_entity(tracker, "licence")
        if asked:
            names = [lic["licence_name"] for lic in checklist["licences"]]
            if asked in names:
                lines.append(f"您问到的“{asked}”：需要办理，已包含在上面的清单里。")
            else:
                lines.append(
                    f"您问到的“{asked}”不在基本清单里；是否需要办理要看经营情况（如面积、经营项目），"
                    "列材料清单时我会根据您的回答判断。"
                )
        lines.append(f"说明：{package['summary']}")
        lines.extend(source_lines(package, self.backend.public_link))
        dispatcher.utter_message(text="\n".join(lines))
        if not tracker.active_loop.get("name"):
            dispatcher.utter_message(
                text="需要的话，我可以问您几个简单问题（面积、是否外卖等），列出一份按您情况定制的材料清单。",
                buttons=[button("好的，帮我列清单", "/start_checklist"), button("暂时不用", "/deny")],
            )
        return remember_industry(tracker, package["id"])


def source_lines(package: dict[str, Any], public_link: Callable[[str], str]) -> list[str]:
    """Where the list comes from: a government assistant's answer names its document, like a policy
    answer (actions/policy.py), with the annex row to read."""
    lines = []
    if package.get("source"):
        lines.append(SOURCE + package["source"])
    if package.get("source_url"):
        lines.append(f"查看原文：{public_link(package['source_url'])}")
    return lines


def remember_industry(tracker: Tracker, package_id: str) -> list[dict[str, Any]]:
    """Later questions ("帮我列清单") are about the industry just discussed, but a question about another
    industry in the middle of a form must not switch the form's industry under the applicant's feet."""
    if tracker.active_loop.get("name"):
        return []
    return [SlotSet("industry", package_id)]


class ActionTimeLimit(BackendAction):
    """多久能办好 → the promised and legal working days of the applicant's licences."""

    def name(self) -> str:
        return "action_time_limit"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        package = await time_limit_package(
            self.backend, latest_entity(tracker, "industry"), tracker.get_slot("industry")
        )
        if package is None:
            # What the documents say about time limits in general, cited, before asking for the industry.
            text = latest_text(tracker)
            if text and not is_command(text):
                with contextlib.suppress(BackendRefused):
                    result = await self.backend.search_policies(text, limit=SEARCH_LIMIT)
                    answer_found(dispatcher, result, self.backend.public_link)
            dispatcher.utter_message(
                text="各行业需要办的许可不同，办理时间也不一样。告诉我您开什么店，我可以给您算出具体的承诺时限：",
                buttons=await industry_buttons(self.backend, "ask_time_limit"),
            )
            return []
        checklist = await self.backend.checklist(package["id"], stored_answers(tracker, package["id"]))
        lines = [
            f"“{package['name']}”先办营业执照，登记信息共享给各部门后，其他许可并行审批；材料齐全受理后开始计时：",
            *(
                f"· {lic['licence_name']}：承诺{days(lic['promised_days'])}（法定{days(lic['legal_days'])}）"
                for lic in checklist["licences"]
            ),
            f"全部办齐承诺{days(checklist['promised_days'])}，法定时限{days(checklist['legal_days'])}"
            f"{in_sequence(checklist)}。需要现场核查的，以核查安排为准。",
        ]
        dispatcher.utter_message(text="\n".join(lines))
        return remember_industry(tracker, package["id"])
