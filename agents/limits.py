"""Approval limits on totals: money moved without a human, per turn, account and requester.

The runner asks `SpendLimits.reserve` before a money-moving call runs unapproved. The
reservation is all or nothing across the calls of one model step and every scope they count
against, so splitting a refund across calls, steps, turns or threads cannot pass the limit.
`bot/` hands the runner a database-backed implementation (shared by replicas); `MemoryLimits`
is the same rule within one process, the default when nothing else is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

from agents.tool import Exposure


def to_units(major: Decimal, *, up: bool) -> int:
    """Hundredths of a major unit; amounts round up and limits down, so rounding never helps."""
    return int((major * 100).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR))


@dataclass(frozen=True)
class SpendHold:
    """One call's amount, counted against each of its scopes under the call's key."""

    key: str
    scopes: tuple[str, ...]
    units: int


class SpendLimits(Protocol):
    async def reserve(
        self, holds: Sequence[SpendHold], *, limit_units: int, window: timedelta
    ) -> bool:
        """True when every scope stays within the limit over the window and the holds are kept."""
        ...

    async def release(self, key: str) -> None:
        """Forget a hold whose call moved nothing (the tool failed)."""
        ...


def scopes(exposure: Exposure, *, turn: str, team: str, requester: str) -> tuple[str, ...]:
    return (f"turn:{turn}", f"account:{exposure.account}", f"requester:{team}:{requester}")


@dataclass
class MemoryLimits:
    """`SpendLimits` in one process's memory: the rule without a database."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    _held: dict[tuple[str, str], tuple[int, datetime]] = field(default_factory=dict)

    async def reserve(
        self, holds: Sequence[SpendHold], *, limit_units: int, window: timedelta
    ) -> bool:
        now = self.clock()
        since = now - window
        keys = {h.key for h in holds}
        wanted: dict[str, int] = {}
        for hold in holds:
            for scope in hold.scopes:
                wanted[scope] = wanted.get(scope, 0) + hold.units
        for scope, units in wanted.items():
            spent = sum(
                u
                for (key, s), (u, at) in self._held.items()
                if s == scope and at >= since and key not in keys
            )
            if spent + units > limit_units:
                return False
        for hold in holds:
            for scope in hold.scopes:
                self._held.setdefault((hold.key, scope), (hold.units, now))
        return True

    async def release(self, key: str) -> None:
        for held in [k for k in self._held if k[0] == key]:
            del self._held[held]
