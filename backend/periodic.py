"""The backend's periodic jobs, run in the background of every backend process: 容缺 reminders before the
deadline and notices once it has passed, and closing forgotten human conversations. Each job is safe to run
in several processes at once."""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import commitments, handoffs
from backend.db import begin_write
from backend.domain import Domain

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        domain: Callable[[], Domain],
        interval: float,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._domain = domain  # read each round: an admin may reload the catalog meanwhile
        self._interval = interval

    async def run_once(self) -> None:
        domain = self._domain()
        async with self._sessionmaker() as session:
            await begin_write(session)
            sent = await commitments.send_due_reminders(session, domain=domain)
        async with self._sessionmaker() as session:
            await begin_write(session)
            overdue = await commitments.send_overdue_notices(session, domain=domain)
        async with self._sessionmaker() as session:
            await begin_write(session)
            idle = timedelta(hours=domain.settings.handoff_idle_hours)
            closed = await handoffs.close_idle(session, idle=idle)
        if sent or overdue or closed:
            log.info(
                "periodic: %d 容缺 reminders and %d overdue notices sent, %d idle handoffs closed",
                sent,
                overdue,
                closed,
            )

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("periodic jobs failed; will retry")
            await asyncio.sleep(self._interval)
