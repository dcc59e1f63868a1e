"""Passive replies: the body of the HTTP answer to a callback (one message at most)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from wechatpy.replies import ImageReply, TextReply, TransferCustomerServiceReply

PassiveKind = Literal["success", "text", "image", "transfer"]


@dataclass(frozen=True, slots=True)
class Passive:
    kind: PassiveKind
    value: str = ""  # text content or media id

    def encode(self) -> str:
        return json.dumps({"kind": self.kind, "value": self.value}, ensure_ascii=False)

    @classmethod
    def decode(cls, raw: str) -> Passive:
        data = json.loads(raw)
        return cls(data["kind"], data.get("value", ""))


SUCCESS = Passive("success")


def escape_cdata(text: str) -> str:
    """wechatpy wraps values in CDATA without escaping; a `]]>` in the text would break the XML."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render(passive: Passive, *, openid: str, account: str) -> str:
    """XML for WeChat; `success` means "nothing now" and stops WeChat's retries."""
    # source / target are swapped relative to the message: we answer from the account to the user.
    addressing = {"source": account, "target": openid}
    match passive.kind:
        case "text":
            return str(TextReply(content=escape_cdata(passive.value), **addressing).render())
        case "image":
            return str(ImageReply(media_id=passive.value, **addressing).render())
        case "transfer":
            return str(TransferCustomerServiceReply(**addressing).render())
        case _:
            return "success"
