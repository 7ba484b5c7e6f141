"""A turn's time for model calls, shared by every call the turn makes.

A turn makes several model calls (the route classifier, each step of each specialist). If each
took its own full timeout and retries from a provider that hangs or fails, the user would wait
minutes for what the offline model could say at once. So the supervisor opens one budget per
turn; every call takes its timeout from what is left, the time lost to failures is summed, and a
model that failed once in the turn is not asked again in it. The budget travels in a context
variable, so tasks the turn starts (specialists in parallel) share it without being passed it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class TurnBudget:
    deadline: float = math.inf  # on `clock`, when the turn must have its answer
    clock: Callable[[], float] = time.monotonic
    lost: float = 0.0  # seconds spent on calls that failed, and on waiting to retry them
    failed: set[str] = field(default_factory=set)  # models not to ask again in this turn

    def remaining(self) -> float:
        return self.deadline - self.clock()


_current: ContextVar[TurnBudget | None] = ContextVar("switchboard_turn_budget", default=None)


@contextmanager
def turn_budget(
    seconds: float, clock: Callable[[], float] = time.monotonic
) -> Iterator[TurnBudget]:
    """Model calls made inside share one budget that ends `seconds` from now."""
    budget = TurnBudget(deadline=clock() + seconds, clock=clock)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current_budget() -> TurnBudget | None:
    return _current.get()
