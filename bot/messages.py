"""Channel-neutral messages: what the assistant says, whichever channel carries it.

The web / mini-program JSON shape is the serialised form (`to_json` / `from_json`):
`{"type": "text", "text"}`, `{"type": "image", "url"}`,
`{"type": "buttons", "text", "buttons": [{"title", "payload"}]}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHANNELS = ("wechat", "web", "miniprogram")


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one channel. `applicant` is the id the backend and Rasa know them by."""

    channel: str
    user_id: str

    @property
    def applicant(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @classmethod
    def parse(cls, applicant: str) -> UserRef:
        channel, sep, user_id = applicant.partition(":")
        if not sep or channel not in CHANNELS or not user_id:
            raise ValueError(f"not an applicant id: {applicant!r}")
        return cls(channel, user_id)


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Image:
    url: str


@dataclass(frozen=True, slots=True)
class Buttons:
    text: str
    buttons: tuple[Button, ...]


Message = Text | Image | Buttons


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to one user input.

    `handoff_id` is set when the assistant asked to hand the user to staff; `transfer_to_wechat_kf`
    when the user is in WeChat's own customer-service mode and the message must be forwarded there.
    `keep_menu`: a reply without buttons that must not forget the last numbered menu on WeChat, because a
    notice with buttons (the rating prompt after leaving human mode) may be arriving at the same moment.
    """

    messages: tuple[Message, ...] = ()
    handoff_id: str | None = None
    transfer_to_wechat_kf: bool = False
    human_mode: bool = False
    keep_menu: bool = False


def to_json(message: Message) -> dict[str, Any]:
    match message:
        case Text(text):
            return {"type": "text", "text": text}
        case Image(url):
            return {"type": "image", "url": url}
        case Buttons(text, buttons):
            return {
                "type": "buttons",
                "text": text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in buttons],
            }


def from_json(data: dict[str, Any]) -> Message:
    kind = data.get("type")
    if kind == "text":
        return Text(str(data["text"]))
    if kind == "image":
        return Image(str(data["url"]))
    if kind == "buttons":
        buttons = tuple(Button(str(b["title"]), str(b["payload"])) for b in data["buttons"])
        return Buttons(str(data.get("text", "")), buttons)
    raise ValueError(f"unknown message type: {kind!r}")
