"""A circuit breaker per model, so a failing provider is not hammered and replies stay fast.

After `threshold` consecutive failures the breaker opens for `cooldown` seconds; calls are then
skipped at once. After the cooldown one trial call is let through (half-open): success closes
the breaker, failure opens it again for another cooldown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Breaker:
    threshold: int = 5
    cooldown: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _trial_out: bool = field(default=False, repr=False)

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if self.clock() - self.opened_at < self.cooldown or self._trial_out:
            return False
        self._trial_out = True
        return True

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.clock() - self.opened_at < self.cooldown

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_out = False

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_out = False
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock()


class Breakers:
    """One breaker per model string, created on first use."""

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold, self._cooldown, self._clock = threshold, cooldown, clock
        self._by_model: dict[str, Breaker] = {}

    def __getitem__(self, model: str) -> Breaker:
        if model not in self._by_model:
            self._by_model[model] = Breaker(self._threshold, self._cooldown, self._clock)
        return self._by_model[model]
