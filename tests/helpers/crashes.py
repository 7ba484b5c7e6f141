"""Kill -9 inside the process: from the n-th database write (or right after a side effect
returns) every write fails, as if the process had died there; the tests then start a new bot on
the same files. Used by the crash sweeps in tests/adversarial."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from storage.database import Database

# What a dead process had claimed (a turn, a post) is taken over once its lease lapses: short
# leases keep the restart quick; production's are longer (30 s, 60 s) and work the same way.
QUICK = timedelta(seconds=1)


class Killed(Exception):  # noqa: N818 (a kill, not an error)
    """The process died here."""


class Crasher:
    """Counts writes and side effects; from the `at`-th on, each one raises `Killed`."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.count = 0
        self.fired = asyncio.Event()

    def tick(self) -> None:
        self.count += 1
        if self.count >= self.at:
            self.fired.set()
            raise Killed(f"killed at step {self.at}")


def arm(db: Database, crasher: Crasher) -> None:
    """Every non-urgent write of this database goes through the crasher first."""
    write, hot_write = db.write, db.hot_write

    @contextlib.asynccontextmanager
    async def crashing_write(*, urgent: bool = False) -> AsyncIterator[Any]:
        if not urgent:
            crasher.tick()
        async with write(urgent=urgent) as session:
            yield session

    async def crashing_hot_write(work: Callable[..., Any], *, urgent: bool = False) -> Any:
        if not urgent:
            crasher.tick()
        return await hot_write(work, urgent=urgent)

    db.write = crashing_write  # type: ignore[method-assign]
    db.hot_write = crashing_hot_write  # type: ignore[method-assign]


def after(obj: Any, name: str, crasher: Crasher) -> None:
    """A crash right after `obj.name(...)` returns: the effect happened, nothing recorded it."""
    original = getattr(obj, name)

    async def effect(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        crasher.tick()
        return result

    setattr(obj, name, effect)
