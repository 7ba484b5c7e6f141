"""Approval limits on totals, in the runner: a step's calls are all-or-nothing under the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from agents.limits import MemoryLimits, SpendHold, to_units


def test_rounding_never_helps_the_caller() -> None:
    assert to_units(Decimal("99.991"), up=True) == 10000
    assert to_units(Decimal("100.009"), up=False) == 10000


async def test_holds_are_all_or_nothing_per_scope() -> None:
    limits = MemoryLimits()
    window = timedelta(hours=24)
    first = [SpendHold("k1", ("turn:a", "account:x"), 6000)]
    assert await limits.reserve(first, limit_units=10000, window=window)
    both = [
        SpendHold("k2", ("turn:b", "account:x"), 3000),
        SpendHold("k3", ("turn:b", "account:y"), 3000),
    ]
    assert await limits.reserve(both, limit_units=10000, window=window)
    # account:x now holds 9000: another 2000 there is refused, and nothing of the step is kept
    step = [
        SpendHold("k4", ("turn:c", "account:z"), 10),
        SpendHold("k5", ("turn:c", "account:x"), 2000),
    ]
    assert not await limits.reserve(step, limit_units=10000, window=window)
    assert await limits.reserve(
        [SpendHold("k6", ("account:z",), 10000)], limit_units=10000, window=window
    )


async def test_a_key_reserved_again_is_not_counted_twice() -> None:
    limits = MemoryLimits()
    hold = [SpendHold("k1", ("account:x",), 9000)]
    window = timedelta(hours=24)
    assert await limits.reserve(hold, limit_units=10000, window=window)
    assert await limits.reserve(hold, limit_units=10000, window=window)  # a re-run turn


async def test_the_window_forgets_old_spending() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    limits = MemoryLimits(clock=lambda: now[0])
    window = timedelta(hours=24)
    assert await limits.reserve([SpendHold("k1", ("a",), 10000)], limit_units=10000, window=window)
    assert not await limits.reserve([SpendHold("k2", ("a",), 1)], limit_units=10000, window=window)
    now[0] += timedelta(hours=25)
    assert await limits.reserve([SpendHold("k3", ("a",), 10000)], limit_units=10000, window=window)


async def test_a_released_hold_no_longer_counts() -> None:
    limits = MemoryLimits()
    window = timedelta(hours=24)
    assert await limits.reserve([SpendHold("k1", ("a",), 10000)], limit_units=10000, window=window)
    await limits.release("k1")
    assert await limits.reserve([SpendHold("k2", ("a",), 10000)], limit_units=10000, window=window)
