"""Who may write to the SQLite file now, inside one process.

SQLite has one writer at a time. A write through the ORM (aiosqlite) holds SQLite's lock across
several hops between the event loop and the driver's thread, so it takes the database alone: a
second writer would wait in SQLite's sleep-and-retry handler instead of in the event loop.

A hot-path write (`storage.hotpath`) is a whole transaction in one call on the hot thread, and
that thread runs one call at a time, so hot writes never overlap each other; they only need no
ORM write to be in progress. They share the queue: each goes straight to the thread instead of
waiting for the event loop to hand an exclusive lock from one to the next. Under
`bench/slack_load.py` at 100 events/s that hand-over, not SQLite, was most of each write's wait;
the ack's insert waited behind it and the writer queue was busy 18 s of a 21 s run.

First come, first served, so an ORM write is not starved by a stream of hot ones; urgent writes
(an event recorded before Slack's 3-second ack) go ahead of every waiting ordinary one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # compared by identity: each is one waiting task
class _Waiter:
    shared: bool
    granted: asyncio.Future[None]


class WriterQueue:
    """Shared (hot-path) and exclusive (ORM) writers; urgent ones first; cancellation-safe."""

    def __init__(self) -> None:
        self._exclusive = False
        self._shared = 0
        self._urgent: deque[_Waiter] = deque()
        self._normal: deque[_Waiter] = deque()

    async def acquire(self, urgent: bool, *, shared: bool = False) -> None:
        queue = self._urgent if urgent else self._normal
        waiting_ahead = bool(self._urgent) or (not urgent and bool(self._normal))
        if not waiting_ahead and self._free_for(shared):
            self._take(shared)
            return
        waiter = _Waiter(shared, asyncio.get_running_loop().create_future())
        queue.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self.release(shared=shared)  # handed to us as we were cancelled: pass it on
            else:
                if waiter in queue:
                    queue.remove(waiter)
                self._grant()  # an exclusive waiter gone may free the shared ones behind it
            raise

    def release(self, *, shared: bool = False) -> None:
        if shared:
            self._shared -= 1
        else:
            self._exclusive = False
        self._grant()

    def _free_for(self, shared: bool) -> bool:
        return not self._exclusive and (shared or self._shared == 0)

    def _take(self, shared: bool) -> None:
        if shared:
            self._shared += 1
        else:
            self._exclusive = True

    def _grant(self) -> None:
        """Hand the queue on, in order, for as long as the one at the head can go."""
        while True:
            queue = self._urgent or self._normal
            if not queue:
                return
            head = queue[0]
            if head.granted.done():  # cancelled while waiting; its task removes nothing now
                queue.popleft()
                continue
            if not self._free_for(head.shared):
                return
            queue.popleft()
            self._take(head.shared)
            head.granted.set_result(None)
