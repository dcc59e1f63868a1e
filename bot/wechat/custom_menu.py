"""The Official Account's custom menu (自定义菜单) and what each CLICK means to the assistant.

WeChat allows at most 3 top-level buttons (≤ 4 Chinese characters) with up to 5 sub-buttons each
(https://developers.weixin.qq.com/doc/subscription/api/custommenu/api_createcustommenu.html), so the five
entries are laid out as 政策咨询 | 办证服务 ▸ (我要办证, 办理进度, 我的证照) | 人工服务. A CLICK reaches
the assistant as the item's payload, exactly as if the person had typed it; the same payloads are the
welcome menu's options and the web page's quick buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.messages import Button


@dataclass(frozen=True, slots=True)
class MenuItem:
    title: str
    key: str  # EventKey of the CLICK event (≤ 128 bytes)
    payload: str  # what the assistant receives


POLICY = MenuItem("政策咨询", "ZL_POLICY", "/ask_policy")
APPLY = MenuItem("我要办证", "ZL_APPLY", "/apply_licence")
PROGRESS = MenuItem("办理进度", "ZL_PROGRESS", "/check_progress")
LICENCES = MenuItem("我的证照", "ZL_LICENCES", "/my_licences")
HUMAN = MenuItem("人工服务", "ZL_HUMAN", "/human_handoff")

MENU = (POLICY, APPLY, PROGRESS, LICENCES, HUMAN)
BY_KEY = {item.key: item for item in MENU}


def menu_buttons() -> tuple[Button, ...]:
    return tuple(Button(item.title, item.payload) for item in MENU)


def _click(item: MenuItem) -> dict[str, str]:
    return {"type": "click", "name": item.title, "key": item.key}


def menu_definition() -> dict[str, Any]:
    """The body of `POST /cgi-bin/menu/create`."""
    return {
        "button": [
            _click(POLICY),
            {"name": "办证服务", "sub_button": [_click(APPLY), _click(PROGRESS), _click(LICENCES)]},
            _click(HUMAN),
        ]
    }
