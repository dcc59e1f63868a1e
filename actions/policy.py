"""Policy questions, answered only from the backend's policy search: the answer, the document it comes
from, and a "查看原文" link. When the search finds nothing good enough (``found=false``) the assistant says so
and offers a person, and the FAQ questions the search thinks may be meant (``suggestions``) as buttons
that ask them; it never writes policy of its own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import Backend, BackendRefused, BackendUnavailable
from actions.dialogue import (
    BackendAction,
    button,
    how_to_choose,
    is_command,
    latest_confidence,
    latest_intent,
    latest_text,
    looks_like_question,
)

log = logging.getLogger(__name__)

MAX_ANSWER = 400
EXAMPLES = ("什么是容缺受理", "办证要交费吗", "可以委托别人代办吗")
NOT_FOUND = (
    "抱歉，我在已收录的政策文件里没有找到与这个问题直接相关的规定，为避免误导您，就不随意作答了。"
    "您可以换个说法再问，或者转人工，由窗口工作人员为您解答。"
)
SUGGESTED = "下面这些常见问题可能和您想问的有关，{how}就能查看："


SOURCE = "出处："
# The results asked for: the answer, passages tied with it (`tied_passages`) and the FAQ entries offered
# as buttons after it (from the next two results, `RELATED_FROM`).
SEARCH_LIMIT = 10
RELATED_FROM = 3
TIED = "同样符合您问题的还有："
MAX_TIED_TEXT = 80


def shorten(text: str, limit: int = MAX_ANSWER) -> str:
    return text if len(text) <= limit else text[:limit].rstrip("，,；;、") + "……（详见原文）"


class ActionPolicySearch(BackendAction):
    def name(self) -> str:
        return "action_policy_search"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        question = latest_text(tracker)
        if not question or is_command(question):
            # The menu's 政策咨询 button: no question yet.
            dispatcher.utter_message(
                text="请问您想咨询哪方面的政策？直接打字提问就行，我会附上政策原文出处。比如：",
                buttons=[button(example, example) for example in EXAMPLES],
            )
            return []
        result = await self.backend.search_policies(question, limit=SEARCH_LIMIT)
        if not answer_found(dispatcher, result, self.backend.public_link):
            suggested = [item["title"] for item in result.get("suggestions") or []]
            dispatcher.utter_message(
                text=NOT_FOUND + (f"\n\n{SUGGESTED.format(how=how_to_choose(tracker))}" if suggested else ""),
                buttons=[*(button(title, title) for title in suggested), button("转人工", "/request_human")],
            )
        return []


def answer_found(
    dispatcher: CollectingDispatcher, result: dict[str, Any], public_link: Callable[[str], str]
) -> bool:
    """Reply with the search's best answer and its source; False (nothing said) when it found nothing."""
    hits = result.get("results") or []
    if not result.get("found") or not hits:
        return False
    top = hits[0]
    citations = top.get("citations") or []
    source = citations[0]["citation"] if citations else top["title"]
    lines = [shorten(top["text"])]
    if tied := tied_passages(hits):
        lines += ["", TIED, *(f"· {shorten(hit['text'], MAX_TIED_TEXT)}" for hit in tied)]
    if top.get("sample"):
        lines.append("（此答复为示例内容，具体以政务服务中心窗口解释为准。）")
    lines.append("")
    lines.append(SOURCE + source + (f" 等 {len(citations)} 份文件" if len(citations) > 1 else ""))
    url = top.get("url") or (citations[0]["url"] if citations else "")
    if url:
        lines.append(f"查看原文：{public_link(url)}")
    related = [hit["title"] for hit in hits[1:RELATED_FROM] if hit.get("kind") == "faq"]
    dispatcher.utter_message(
        text="\n".join(lines), buttons=[button(title, title) for title in related] or None
    )
    return True


def is_policy_answer(text: str) -> bool:
    return f"\n{SOURCE}" in text


# NLU's out_of_scope is trusted from this confidence on: the search is made for questions, and a chat
# message it is shown (中午好呀, 现在几点) can share a word with an answer (the window's hours). Trusted,
# not final: DIET is as sure of many policy questions in an applicant's words (人力资源服务许可证归哪个部门管,
# 有了综合证老证还用留着吗, both out_of_scope at 1.00), so the search still sees such a question but
# answers only when its first answer clears its threshold by SURE_OUT_OF_SCOPE_MARGIN. Chosen on the
# tuned part of the policy evaluation set: 7 more of its 792 questions answered right, none of its 233
# out-of-scope ones answered (margin 0: 11 and 4); over the whole set 20 more right and 5 more
# out-of-scope questions answered. Such a question must also name something the documents know in their
# own words, or two things (the search's `names_enough`): 周末带娃去哪玩好 got the window's hours through 周末
# alone.
TRUSTED_OUT_OF_SCOPE = 0.9
SURE_OUT_OF_SCOPE_MARGIN = 0.1
# ... for a short message only. A story told before the question (俺闺女想在临沂开个带餐饮的小宾馆，托俺问问
# 有没有一条链办下来的办法) is mostly words DIET learnt from chat, so its certainty says little; the search
# reads such a message clause by clause against its own threshold (the backend's STORY_LENGTH, 25 too).
# On the policy evaluation set every question the margin kept from a right answer was this long (5 of the
# tuned part, 1 of holdout-7), and every out-of-scope one it stopped was shorter.
SURE_MESSAGE_LENGTH = 25
_MORE_QUESTION_WORDS = (
    "啥", "咋", "几", "有没有", "多少", "谁", "是不是", "要不要", "用不用", "会不会",
    "能否", "可否", "行不行",
)  # fmt: skip


# A choice between two things asks without a question word (证到期了是重新办还是延续); 还是 alone is also
# "still" (我还是想开饭店), so only the 是…还是 frame counts.
_ALTERNATIVE = re.compile(r"是.+还是.")


def asks_something(text: str) -> bool:
    return (
        looks_like_question(text)
        or any(word in text for word in _MORE_QUESTION_WORDS)
        or bool(_ALTERNATIVE.search(text))
    )


def is_question(text: str | None) -> bool:
    """Words (not a button's command) that ask something: what a skill answers from the documents."""
    return bool(text) and not is_command(str(text)) and asks_something(str(text))


# Skills that, for someone with no application or licence yet, answer a question put to them from the
# documents first (actions/licences.py no_licence_yet and ActionShowLicence, ActionShowProgress,
# ActionAttachMaterial with no application, ActionApplyCorrection with nothing to correct):
# 公司不开了要跑哪些地方注销 asks how cancelling works, and a question DIET reads as sending a material
# (旅行社业务经营许可证是旅游局发还是市场监管发) or as a correction is still a question. Someone asking before
# applying is the policy evaluation's premise (scripts/policy_routes.py).
NEWCOMER_SEARCHES = frozenset(
    {"change_licence", "cancel_licence", "ask_progress", "show_licence", "upload_material", "correct"}
)


def search_margin(text: str, intent: str, confidence: float) -> float | None:
    """How far the policy search's first answer must clear its threshold for a message NLU read as
    `intent` (0 for most), or None when the search does not see the message (scripts/policy_routes.py asks
    this too, so that `make eval` measures what the product does)."""
    if not text or is_command(text):
        return None
    if intent == "ask_policy":
        return 0.0
    if intent in ("out_of_scope", "nlu_fallback") and asks_something(text):
        sure = intent == "out_of_scope" and confidence >= TRUSTED_OUT_OF_SCOPE
        return SURE_OUT_OF_SCOPE_MARGIN if sure and len(text) < SURE_MESSAGE_LENGTH else 0.0
    return None


async def answer_if_found(dispatcher: CollectingDispatcher, tracker: Tracker, backend: Backend) -> bool:
    """For a question NLU did not read as a policy question (out of scope without being sure, or unsure
    what it is): answer it from the documents when the search finds an answer anyway, since the search's
    calibrated threshold knows better what the documents answer; NLU sure it is out of scope, the answer
    must clear that threshold by a margin (`search_margin`). Say nothing and return False otherwise: for a
    message that asks nothing, no answer, or a backend that cannot be reached. Both limits keep chat away
    from the search: on the held-out NLU examples of other intents it answered 16 of 984 without them,
    11 with them (`make eval` measures the policy side); see TRUSTED_OUT_OF_SCOPE for the margin."""
    question = latest_text(tracker)
    margin = search_margin(question, latest_intent(tracker) or "", latest_confidence(tracker))
    if margin is None:
        return False
    return await search_and_answer(dispatcher, question, backend, margin=margin)


async def answer_question(dispatcher: CollectingDispatcher, text: str, backend: Backend) -> bool:
    """A skill that cannot act (no licence to change yet) still answers a question put to it from the
    documents: 股东变了要去变更吗 asks how changes work. False, with nothing said, for a message that asks
    nothing or that the search finds no answer to."""
    if not is_question(text):
        return False
    return await search_and_answer(dispatcher, text, backend)


def tied_passages(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The passages after the first that match the question exactly as well as it does, when the first is
    a passage too: 卫健委管哪些证 fits the nine rows of annex 1 that 卫生计生 licenses equally (eight public
    places and 商场超市), and showing one of them would answer a question about all of them with an
    arbitrary one."""
    top = hits[0]
    if top.get("kind") != "passage":
        return []
    return [hit for hit in hits[1:] if hit.get("kind") == "passage" and hit.get("score") == top.get("score")]


async def search_and_answer(
    dispatcher: CollectingDispatcher, question: str, backend: Backend, *, margin: float = 0.0
) -> bool:
    try:
        result = await backend.search_policies(question, limit=SEARCH_LIMIT, margin=margin)
    except (BackendUnavailable, BackendRefused) as exc:
        log.warning("policy search for a message read as another intent failed: %r", exc)
        return False
    return answer_found(dispatcher, result, backend.public_link)


class ActionOutOfScope(BackendAction):
    """NLU read the message as out of scope. Policy questions in applicants' words are often read so
    (证做好了去哪领, 办事大厅几点关门), so the search has the last word: it answers when the documents do,
    and otherwise the applicant hears what the assistant can help with."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if not await answer_if_found(dispatcher, tracker, self.backend):
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionGreet(BackendAction):
    """A greeting. One that also asks something the documents answer gets the answer as well: NLU reads
    "下午几点下班" and "你好，请问窗口中午休息吗" as greetings by their first words."""

    def name(self) -> str:
        return "action_greet"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if not await answer_question(dispatcher, latest_text(tracker), self.backend):
            dispatcher.utter_message(response="utter_greet")
        return []
