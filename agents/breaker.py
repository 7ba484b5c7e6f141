"""A circuit breaker per model, so a failing provider is not hammered and replies stay fast.

After `threshold` consecutive failures the breaker opens for `cooldown` seconds; calls are then
skipped at once. A failure that will not go away by retrying (a refused API key) trips it open
at once. After the cooldown one trial call is let through (half-open): success closes the
breaker, failure opens it again for another cooldown. An open breaker keeps why it opened, so
`/switchboard status` can tell an operator what to fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class Breaker:
    threshold: int = 5
    cooldown: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    reason: str = ""
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
        self.reason = ""
        self._trial_out = False

    def record_failure(self, reason: str = "") -> bool:
        """Count a failure; True when this opened a closed breaker."""
        self.failures += 1
        self._trial_out = False
        if self.failures >= self.threshold or self.opened_at is not None:
            return self._open(reason)
        return False

    def trip(self, reason: str) -> bool:
        """Open at once; True when it was closed."""
        self.failures = max(self.failures + 1, self.threshold)
        self._trial_out = False
        return self._open(reason)

    def _open(self, reason: str) -> bool:
        was_closed = self.opened_at is None
        self.opened_at = self.clock()
        self.reason = reason or self.reason
        return was_closed


@dataclass(frozen=True)
class OpenBreaker:
    model: str
    reason: str
    retry_in: float  # seconds until a trial call is let through


class Breakers:
    """One breaker per model string, created on first use."""

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold, self._cooldown, self._clock = threshold, cooldown, clock
        self._by_model: dict[str, Breaker] = {}

    def __getitem__(self, model: str) -> Breaker:
        if model not in self._by_model:
            self._by_model[model] = Breaker(
                threshold=self._threshold, cooldown=self._cooldown, clock=self._clock
            )
        return self._by_model[model]

    def open_ones(self) -> list[OpenBreaker]:
        """The models being skipped now, and why."""
        now = self._clock()
        return [
            OpenBreaker(model, b.reason, max(0.0, b.cooldown - (now - b.opened_at)))
            for model, b in sorted(self._by_model.items())
            if b.opened_at is not None and b.is_open
        ]
