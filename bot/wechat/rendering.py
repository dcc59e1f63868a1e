"""Channel-neutral messages → what WeChat can carry: plain texts ≤ 2048 bytes and images.

WeChat has no buttons in chat, so `Buttons` become a numbered menu ("回复 1 …"); the payloads are
remembered per user (`bot.wechat.options`) so that a numeric answer maps back to the payload. A score
button (好差评) is numbered by its score, so the "5" a person types to give 5 points does give 5 points
whatever else the reply offers; the other options of such a reply are numbered from 6. Consecutive
texts are merged, because the customer-service API allows only a few messages per user message (5 per
48 h), and then split at 2048 UTF-8 bytes — the limit everyone uses, as the official docs give none —
preferably after a sentence.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.messages import Buttons, Image, Message, Text
from bot.notices import score_of

MAX_TEXT_BYTES = 2048
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    url: str


Part = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class Rendered:
    parts: list[Part]
    menu: dict[int, str]  # the payload of each number; empty when the reply had no buttons


def option_line(number: int, title: str) -> str:
    return f"回复 {number} {title}"


def option_numbers(payloads: list[str]) -> list[int]:
    """The number of each option: a score button its score, the others 1, 2, … — or 6, 7, … when scores
    are on offer, because a bare 1–5 then means a score."""
    scores: list[int | None] = []
    for payload in payloads:
        score = score_of(payload)
        scores.append(score if score not in scores else None)  # a repeated score is just another option
    others = itertools.count(6 if any(score is not None for score in scores) else 1)
    return [score if score is not None else next(others) for score in scores]


def render_messages(messages: tuple[Message, ...] | list[Message]) -> Rendered:
    parts: list[Part] = []
    numbers = iter(option_numbers([b.payload for m in messages if isinstance(m, Buttons) for b in m.buttons]))
    menu: dict[int, str] = {}
    block: list[str] = []

    def flush() -> None:
        if block:
            parts.extend(TextPart(chunk) for chunk in split_text("\n\n".join(block)))
            block.clear()

    for message in messages:
        match message:
            case Text(text):
                if text.strip():
                    block.append(text.strip())
            case Buttons(text, buttons):
                lines = [text.strip()] if text.strip() else []
                for button in buttons:
                    number = next(numbers)
                    menu[number] = button.payload
                    lines.append(option_line(number, button.title))
                block.append("\n".join(lines))
            case Image(url):
                flush()
                parts.append(ImagePart(url))
    flush()
    return Rendered(parts, menu)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_split(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for char in text:
        if _utf8_len(current) + _utf8_len(char) > limit:
            chunks.append(current)
            current = ""
        current += char
    if current:
        chunks.append(current)
    return chunks


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut after sentence ends where possible."""
    if _utf8_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        if not sentence:
            continue
        if _utf8_len(current) + _utf8_len(sentence) <= limit:
            current += sentence
            continue
        if current:
            chunks.append(current)
        if _utf8_len(sentence) <= limit:
            current = sentence
        else:
            *full, current = _hard_split(sentence, limit)
            chunks.extend(full)
    if current:
        chunks.append(current)
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]
