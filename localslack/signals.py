"""Wake waiters when something changes: the event-driven alternative to sleep-polling.

A ``Signal`` wraps an ``asyncio.Condition``. Code that changes state calls ``notify()``
(synchronous, so plain state mutations can call it); ``wait_for(predicate, within)`` re-checks
the predicate only when something changed, and fails with a clear error at the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from .errors import WaitTimeoutError

T = TypeVar("T")


class Signal:
    """A change counter that coroutines can wait on."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._version = 0
        self._pending_wake: asyncio.Task[None] | None = None

    @property
    def version(self) -> int:
        """How many changes have been signalled so far."""
        return self._version

    def notify(self) -> None:
        """Record a change and wake every waiter (callable from synchronous code)."""
        self._version += 1
        if self._pending_wake is None or self._pending_wake.done():
            self._pending_wake = asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._condition:
            self._condition.notify_all()

    async def wait_for(
        self, predicate: Callable[[], T | None], within: float, what: str = "a change"
    ) -> T:
        """Return the first truthy value of ``predicate()``, re-checked on every change.

        Raises WaitTimeoutError naming ``what`` when ``within`` seconds pass first.
        """
        try:
            async with asyncio.timeout(within), self._condition:
                while True:
                    result = predicate()
                    if result:
                        return result
                    await self._condition.wait()
        except TimeoutError:
            raise WaitTimeoutError(f"Timed out after {within:g} s waiting for {what}.") from None
