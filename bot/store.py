"""Redis as the gateway uses it: opened with `decode_responses=True`, so every reply is text.

redis-py types replies as `bytes | str` whatever the decoding; these helpers narrow them in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

StreamEntry = tuple[str, dict[str, str]]


def open_redis(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True)


def text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def text_map(value: Mapping[Any, Any] | None) -> dict[str, str]:
    return {str(text(k)): str(text(v)) for k, v in (value or {}).items()}


def entries(raw: Any) -> list[StreamEntry]:
    """Stream entries (XRANGE / XCLAIM replies); entries deleted meanwhile come back without fields."""
    return [(str(text(entry_id)), text_map(fields)) for entry_id, fields in raw or []]
