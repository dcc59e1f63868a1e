"""Typed keys for what the backend app holds (aiohttp `web.AppKey`)."""

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.domain import Domain
from backend.materials.storage import FileStore
from backend.pictures import Pictures
from backend.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
REDIS = web.AppKey("redis", Redis)
DOMAIN = web.AppKey("domain", Domain)
FILES = web.AppKey("files", FileStore)
PICTURES = web.AppKey("pictures", Pictures)
