"""A pushed message or event, parsed by wechatpy and reduced to the fields the gateway uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import parse_message

from bot.messages import UserRef
from bot.wechat.envelope import CallbackRejected

USER_MESSAGE_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


@dataclass(frozen=True, slots=True)
class Inbound:
    kind: str  # a MsgType (text, image, …), "event", or "unknown"
    openid: str
    account: str  # ToUserName: the Official Account's original id (gh_…)
    create_time: int
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    recognition: str = ""
    latitude: str = ""
    longitude: str = ""
    label: str = ""
    title: str = ""
    url: str = ""
    description: str = ""
    event: str = ""  # lower-case: subscribe, subscribe_scan, scan, click, templatesendjobfinish, …
    event_key: str = ""
    status: str = ""

    @property
    def user(self) -> UserRef:
        return UserRef("wechat", self.openid)

    @property
    def is_user_message(self) -> bool:
        return self.kind in USER_MESSAGE_KINDS

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime for events (WeChat's own rule)."""
        if self.kind != "event" and self.msg_id and self.msg_id != "0":
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event}"


def parse_inbound(xml: str) -> Inbound:
    try:
        msg = parse_message(xml)
        if msg is None:
            raise CallbackRejected(400, "empty message")
        kind = str(msg.type)
        base = Inbound(
            kind=kind,
            openid=str(msg.source or ""),
            account=str(msg.target or ""),
            create_time=int(msg.time),
            msg_id=str(msg.id or ""),
        )
        fields: dict[str, Any] = {}
        if kind == "text":
            fields["content"] = str(msg.content or "")
        elif kind in ("image", "voice"):
            fields["media_id"] = str(msg.media_id or "")
            if kind == "voice":
                fields["recognition"] = str(msg.recognition or "")
        elif kind == "location":
            fields["latitude"], fields["longitude"] = (str(v) for v in msg.location)
            fields["label"] = str(msg.label or "")
        elif kind == "link":
            fields.update(title=str(msg.title or ""), url=str(msg.url or ""))
            fields["description"] = str(msg.description or "")
        elif kind == "event":
            fields["event"] = str(msg.event)
            fields["event_key"] = str(getattr(msg, "key", "") or "")
            if msg.event in ("subscribe_scan", "scan"):
                fields["event_key"] = str(msg.scene_id or "")
            elif msg.event == "view":
                fields["url"] = str(msg.url or "")
            elif msg.event == "templatesendjobfinish":
                fields["status"] = str(msg.status or "")
        inbound = replace(base, **fields)
    except CallbackRejected:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, ExpatError):
        raise CallbackRejected(400, "malformed message") from None
    if not inbound.openid:
        raise CallbackRejected(400, "message without sender")
    return inbound
