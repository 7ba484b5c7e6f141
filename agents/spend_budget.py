"""Money budgets for model calls: past one, a turn runs on the offline model and says why.

Not to be confused with `agents.budget` (a turn's *time* for model calls) or `agents.limits`
(approval limits on refund totals). These are dollars spent on models, configured under
`[budgets]`: per channel per day, per thread, and for everything per day (days in UTC).

The supervisor checks the stored sums before a turn starts (so the check holds across
replicas) and, when one is spent, runs the turn inside `offline_only`: every model call of the
turn then goes to the offline model (`agents.llm` asks `reached()`), and the reply carries
`notice()`, one line naming the budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

BudgetName = Literal["per_channel_daily_usd", "per_thread_usd", "total_daily_usd"]

_WHAT: dict[BudgetName, str] = {
    "per_channel_daily_usd": "the channel's daily budget",
    "per_thread_usd": "the thread's budget",
    "total_daily_usd": "the daily budget for all channels",
}


def usd(amount: float) -> str:
    """Dollars as people read them: `$5.00`, `$1,250.00`, and small budgets not as `$0.00`."""
    if amount == 0 or abs(amount) >= 0.01:
        return f"${amount:,.2f}"
    return f"${amount:.6f}"


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC today: where the daily budgets start again."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SpendBudgets:
    """Dollars of model calls allowed; None means no such budget."""

    per_channel_daily_usd: float | None = None
    per_thread_usd: float | None = None
    total_daily_usd: float | None = None

    @property
    def any(self) -> bool:
        return any(
            b is not None
            for b in (self.per_channel_daily_usd, self.per_thread_usd, self.total_daily_usd)
        )


@dataclass(frozen=True)
class Spent:
    """What was spent so far, from the stored sums: the channel's and everyone's today, the
    thread's ever."""

    channel_today: float
    thread: float
    total_today: float


@dataclass(frozen=True, kw_only=True)
class BudgetReached:
    budget: BudgetName
    limit_usd: float
    spent_usd: float
    channel: str = ""  # where the turn that found it spent was
    thread_ts: str = ""

    @property
    def what(self) -> str:
        return _WHAT[self.budget]


def reached_of(budgets: SpendBudgets, spent: Spent) -> BudgetReached | None:
    """The first budget that is spent (the narrowest first), or None.

    A budget of 0 is always spent: no paid model calls at all there.
    """
    checks: list[tuple[BudgetName, float | None, float]] = [
        ("per_thread_usd", budgets.per_thread_usd, spent.thread),
        ("per_channel_daily_usd", budgets.per_channel_daily_usd, spent.channel_today),
        ("total_daily_usd", budgets.total_daily_usd, spent.total_today),
    ]
    for name, limit, used in checks:
        if limit is not None and used >= limit:
            return BudgetReached(budget=name, limit_usd=limit, spent_usd=used)
    return None


_reached: ContextVar[BudgetReached | None] = ContextVar("switchboard_budget", default=None)


@contextmanager
def offline_only(reached: BudgetReached | None) -> Iterator[None]:
    """Model calls inside go to the offline model when `reached` names a spent budget."""
    token = _reached.set(reached)
    try:
        yield
    finally:
        _reached.reset(token)


def reached() -> BudgetReached | None:
    """The budget the current turn is over, if any."""
    return _reached.get()


def notice(budget: BudgetReached | None = None) -> str:
    """The reply's one line about it; empty when no budget is reached."""
    budget = budget or reached()
    if budget is None:
        return ""
    return (
        f"_Budget reached: {budget.what} ({usd(budget.limit_usd)}, `budgets.{budget.budget}`) "
        "is spent, so the offline model answered._"
    )
