"""Policy questions, answered only from the backend's policy search: the answer, the document it comes
from, and a "查看原文" link. When the search finds nothing good enough (``found=false``) the assistant says so
and offers a person, and the FAQ questions the search thinks may be meant (``suggestions``) as buttons
that ask them; it never writes policy of its own.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dialogue import BackendAction, button, how_to_choose, is_command, latest_text

MAX_ANSWER = 400
EXAMPLES = ("什么是容缺受理", "办证要交费吗", "可以委托别人代办吗")
NOT_FOUND = (
    "抱歉，我在已收录的政策文件里没有找到与这个问题直接相关的规定，为避免误导您，就不随意作答了。"
    "您可以换个说法再问，或者转人工，由窗口工作人员为您解答。"
)
SUGGESTED = "下面这些常见问题可能和您想问的有关，{how}就能查看："


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
        result = await self.backend.search_policies(question, limit=3)
        hits = result.get("results") or []
        if not result.get("found") or not hits:
            suggested = [item["title"] for item in result.get("suggestions") or []]
            dispatcher.utter_message(
                text=NOT_FOUND + (f"\n\n{SUGGESTED.format(how=how_to_choose(tracker))}" if suggested else ""),
                buttons=[*(button(title, title) for title in suggested), button("转人工", "/request_human")],
            )
            return []
        top = hits[0]
        citations = top.get("citations") or []
        source = citations[0]["citation"] if citations else top["title"]
        lines = [shorten(top["text"])]
        if top.get("sample"):
            lines.append("（此答复为示例内容，具体以政务服务中心窗口解释为准。）")
        lines.append("")
        lines.append(f"出处：{source}" + (f" 等 {len(citations)} 份文件" if len(citations) > 1 else ""))
        url = top.get("url") or (citations[0]["url"] if citations else "")
        if url:
            lines.append(f"查看原文：{self.backend.public_link(url)}")
        related = [hit["title"] for hit in hits[1:] if hit.get("kind") == "faq"][:2]
        dispatcher.utter_message(
            text="\n".join(lines), buttons=[button(title, title) for title in related] or None
        )
        return []
