"""Whether this process can do its job right now: what `/readyz` reports.

Liveness (`/healthz`) only says the process answers. Readiness must tell the truth about what
the bot depends on, or a platform keeps routing Slack's events to a replica that cannot take
them: the database must accept a write (a read succeeds while a disk is full, a replica is
read-only or another process holds SQLite's write lock, and every ack fails then), and Slack
must be reachable: the Socket Mode connection when there is one, else the Web API.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.failures import describe_failure
from storage.store import Store

log = structlog.stdlib.get_logger(__name__)

OK = "ok"


class Readiness:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        *,
        timeout: float = 2.0,
        slack_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.client = client
        self.timeout = timeout
        self.slack_every = slack_every
        self.clock = clock
        self.socket_connected: Callable[[], Awaitable[bool]] | None = None  # Socket Mode only
        # Events are taken in from the start; turns run once the agents and router have loaded.
        self.turns = "starting: loading the agents and the router"
        self.probe = f"ready:{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._slack: tuple[float, str] | None = None
        self._probe: asyncio.Task[bool] | None = None

    async def __call__(self) -> dict[str, str]:
        database, slack = await asyncio.gather(self._database(), self._slack_state())
        return {"database": database, "slack": slack, "turns": self.turns}

    async def _database(self) -> str:
        """A write that commits: only that shows a full disk or a read-only database.

        The write is not cancelled when it is slow (a driver blocked on a lock may not notice
        cancellation until its own timeout), it is left to finish while readiness answers, and
        no second probe starts until it has.
        """
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(
                self.store.leases.acquire(self.probe, self.probe, timedelta(minutes=5))
            )
        done, _ = await asyncio.wait({self._probe}, timeout=self.timeout)
        if not done:
            return f"not writable: no write within {self.timeout:g} s (locked or overloaded?)"
        exc = self._probe.exception()
        if exc is not None:
            log.warning("readyz.database", error=type(exc).__name__)
            return f"not writable: {type(exc).__name__}"
        return OK

    async def _slack_state(self) -> str:
        if self.socket_connected is not None:
            connected = await self.socket_connected()
            return OK if connected else "Socket Mode connection is down"
        now = self.clock()
        if self._slack is not None and now - self._slack[0] < self.slack_every:
            return self._slack[1]
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.auth_test()
            state = OK
        except Exception as exc:
            state = f"Web API unreachable: {describe_failure(exc).code}"
        self._slack = (now, state)
        return state

    async def close(self) -> None:
        """Remove this process's probe row."""
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        try:
            await self.store.leases.release(self.probe, self.probe)
        except Exception as exc:  # shutting down: the row only lingers
            log.info("readyz.cleanup_failed", error=type(exc).__name__)
