"""Acks first: while recording events gets slow, fewer turns run at once.

Events are recorded and acknowledged in the process that runs turns, and Slack wants its ack
within 3 s. A turn waiting on a model provider costs the process nothing, but turns that compute
(the offline model, routing, tool code, their SQLite writes) compete with the ack's insert for the
event loop, the SQLite thread and the GIL. At 100 events/s on 2 cores (`bench/slack_load.py`),
16 computing turns at once put the ack's p99 near 80-120 ms, 4 near 30 ms; a fixed cap that low
would starve turns that only wait on a provider. So the worker measures what it protects, each
event's recording time (smoothed), and sets how many turns may run the way TCP sets its window:
one more while recording is quick, a quarter fewer while it is slow (one change per `STEP`),
never fewer than `floor`; after `quiet` seconds without an event, the full concurrency again.
Turns already running go on; a turn not started waits in its thread's queue, recorded.

Measured with the bench at 100 events/s (the offline model): ack p99 35-40 ms against 78-118 ms
with a fixed 16, and replies 54-56 a second while sending against 26-30, as the turns that run
no longer crowd each other. The price: where recording is slow for another reason (a slow disk),
turns run `floor` at a time until it recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

LIMIT = 0.006  # seconds: recording an event should take about this long at most
FLOOR = 4  # turns that may always run, so turns progress however busy the process is
QUIET = 1.0  # seconds without an event after which recording times are old news
STEP = 0.1  # seconds between two changes of the number allowed
WEIGHT = 0.2  # of the newest measurement in the smoothed recording time


class Pace:
    """How many turns may run now; fed the time each event took to record."""

    def __init__(
        self,
        ceiling: int,
        *,
        limit: float = LIMIT,
        floor: int = FLOOR,
        quiet: float = QUIET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.limit = limit
        self.quiet = quiet
        self._clock = clock
        self.allowed = ceiling
        self.running = 0
        self.recording = 0.0  # smoothed seconds
        self._last = 0.0  # monotonic time of the last measurement
        self._changed_at = 0.0
        self._changed = asyncio.Event()

    def recorded(self, seconds: float) -> None:
        """One event's recording time (from asking the store to its answer)."""
        now = self._clock()
        self.recording += WEIGHT * (seconds - self.recording)
        self._last = now
        if now - self._changed_at < STEP:
            return
        if self.recording > self.limit and self.allowed > self.floor:
            self.allowed = max(self.floor, self.allowed - max(1, self.allowed // 4))
            self._changed_at = now
        elif self.recording <= self.limit and self.allowed < self.ceiling:
            self.allowed += 1
            self._changed_at = now
            self._changed.set()

    async def start(self) -> None:
        """Wait until one more turn may run, then count it as running (see `done`)."""
        while self.running >= self.allowed:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.quiet):
                    await self._changed.wait()
            if self._clock() - self._last >= self.quiet:  # no events lately: nothing to protect
                self.allowed = self.ceiling
                self.recording = 0.0
        self.running += 1

    def done(self) -> None:
        self.running -= 1
        self._changed.set()

    async def __aenter__(self) -> None:
        await self.start()

    async def __aexit__(self, *_: object) -> None:
        self.done()
