"""The dialogue engine as the gateway sees it: one user turn in, the assistant's messages out.

`RasaDialogue` speaks Rasa's REST channel (`POST {RASA_URL}/webhooks/rest/webhook`). The sender id is the
applicant id (`wechat:oAbC…`, `web:u-42`, `miniprogram:oXyZ…`), so custom actions can pass it to the backend
as `X-Applicant` unchanged. Everything else that talks to the engine depends only on the `Dialogue`
protocol, so unit tests point `RASA_URL` at `bot.standin`'s Rasa stand-in and end-to-end tests at a real
`rasa run --enable-api` with no code change.

Custom payloads the gateway understands (Rasa `json_message` / `custom` in responses):

* `{"custom": {"handoff": {"id": "<handoff id>"}}}` — the assistant created a handoff in the backend
  (`POST /api/v1/handoffs`); the gateway switches the user to human mode (see `bot.handoff`).
* `{"custom": {"type": "image", "url": "…"}}` and `{"custom": {"type": "text", "text": "…"}}` are
  accepted as plain messages.

Messages the gateway sends to the assistant besides what the user typed (the Rasa domain must know them):

* `/upload_material{"file_id": "…", "content_type": "…"}` — the user sent a photo / scan, stored as a
  backend file;
* `/share_location{"latitude": …, "longitude": …, "label": "…"}` and `/share_link{"title", "url"}`;
* the payloads of `bot.wechat.custom_menu.MENU` (`/ask_policy`, `/apply_licence`, `/check_progress`,
  `/my_licences`, `/human_handoff`) when a WeChat menu button is clicked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from bot.messages import Button, Buttons, Image, Message, Text

log = logging.getLogger(__name__)


class DialogueUnavailable(Exception):
    """The engine did not answer (down, timed out, or answered nonsense)."""


@dataclass(slots=True)
class DialogueTurn:
    messages: list[Message]
    handoff_id: str | None = None


class Dialogue(Protocol):
    async def turn(self, sender: str, text: str) -> DialogueTurn: ...


def command(intent: str, entities: dict[str, Any]) -> str:
    """Rasa's `/intent{json}` shortcut that skips NLU for a known intent."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


class RasaDialogue:
    def __init__(self, *, url: str, http: aiohttp.ClientSession, timeout: float) -> None:
        self._endpoint = url.rstrip("/") + "/webhooks/rest/webhook"
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def turn(self, sender: str, text: str) -> DialogueTurn:
        # No `metadata`: Rasa 3.6 stores it in a slot set *before* the session starts, so the Redis tracker
        # store's last-session copy never equals the stored tracker and every save falls back to its
        # quadratic event merge — measured +50 ms a turn, growing with the conversation. No action reads
        # it; the channel is in the sender id and the QR scene stays in `Contacts`.
        body = {"sender": sender, "message": text}
        try:
            async with self._http.post(self._endpoint, json=body, timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise DialogueUnavailable(f"rasa answered HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DialogueUnavailable(str(exc) or type(exc).__name__) from exc
        if not isinstance(data, list):
            raise DialogueUnavailable("rasa answered something that is not a list")
        return parse_rasa_response(data)


def parse_rasa_response(items: list[Any]) -> DialogueTurn:
    messages: list[Message] = []
    handoff_id: str | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        buttons = item.get("buttons")
        if isinstance(buttons, list) and buttons:
            parsed = tuple(
                Button(str(b.get("title", "")), str(b.get("payload", b.get("title", ""))))
                for b in buttons
                if isinstance(b, dict)
            )
            messages.append(Buttons(str(text or ""), parsed))
        elif text:
            messages.append(Text(str(text)))
        if item.get("image"):
            messages.append(Image(str(item["image"])))
        custom = item.get("custom")
        if isinstance(custom, dict):
            handoff = custom.get("handoff")
            if isinstance(handoff, dict) and handoff.get("id") is not None:
                handoff_id = str(handoff["id"])
            elif custom.get("type") == "image" and custom.get("url"):
                messages.append(Image(str(custom["url"])))
            elif custom.get("type") == "text" and custom.get("text"):
                messages.append(Text(str(custom["text"])))
            else:
                log.info("ignoring unknown custom payload keys: %s", sorted(custom))
    return DialogueTurn(messages, handoff_id)
