"""`python -m backend` serves the backend; `python -m backend migrate` only applies migrations."""

import asyncio
import logging
import sys

from aiohttp import web

from backend.app import create_app
from backend.db import make_engine, migrate
from backend.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if sys.argv[1:] == ["migrate"]:
        asyncio.run(migrate(make_engine(settings.database_url)))
        return
    web.run_app(
        create_app(settings),
        host=settings.backend_host,
        port=settings.backend_port,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=lambda _msg: logging.info(
            "backend listening on http://%s:%s", settings.backend_host, settings.backend_port
        ),
    )


if __name__ == "__main__":
    main()
