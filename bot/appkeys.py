"""Typed keys for what the web app stores."""

from __future__ import annotations

from aiohttp import web

from bot.components import Components
from bot.settings import GatewaySettings

SETTINGS = web.AppKey("settings", GatewaySettings)
COMPONENTS = web.AppKey("components", Components)
