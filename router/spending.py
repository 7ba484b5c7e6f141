"""A turn's money: its budget checked before it starts, its model calls stored when it ends.

Before a turn, the stored sums say whether a money budget (`agents.spend_budget`) is spent; if
one is, the whole turn runs on the offline model. During it, every model call lands on the
turn's meter (`agents.metering`). After it (answered or failed: the calls were paid for either
way) the calls are stored with the turn's thread, so the next check, on any replica, counts them.
Calls to the offline model cost nothing and are not stored, so an offline deployment writes
nothing more per turn.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

import structlog

from agents.llm import OFFLINE_PREFIX, Usage
from agents.metering import Meter, ModelCall, current, metered
from agents.spend_budget import (
    BudgetReached,
    SpendBudgets,
    Spent,
    day_start,
    offline_only,
    reached_of,
)
from router.turn import Reply
from storage.costs import NewModelCall, TurnCalls
from storage.store import Store

log = structlog.stdlib.get_logger(__name__)

CallsObserver = Callable[[Sequence[ModelCall]], None]


async def budget_reached(
    store: Store, budgets: SpendBudgets, channel: str, thread_ts: str
) -> BudgetReached | None:
    if not budgets.any:
        return None
    sums = await store.costs.spent(channel, thread_ts, day_start())
    reached = reached_of(budgets, Spent(sums.channel_today, sums.thread, sums.total_today))
    return None if reached is None else replace(reached, channel=channel, thread_ts=thread_ts)


def turn_usage(agents: Usage) -> Usage:
    """What the turn spent in all (the router's classifier too), for the reply's message row;
    `agents` (the specialists' own sum) when no meter runs."""
    meter = current()
    if meter is None:
        return agents
    return Usage(
        sum(c.input_tokens for c in meter.calls),
        sum(c.output_tokens for c in meter.calls),
        meter.cost_usd,
    )


@dataclass
class TurnSpending:
    """What the turn is over (if anything) and what it spent; `on` puts both on the reply."""

    reached: BudgetReached | None
    meter: Meter

    def on(self, reply: Reply) -> Reply:
        return replace(reply, calls=tuple(self.meter.calls), budget=self.reached)


@contextlib.asynccontextmanager
async def spending(
    store: Store,
    budgets: SpendBudgets,
    *,
    turn: str,
    team_id: str,
    channel: str,
    thread_ts: str,
    observe: CallsObserver | None = None,
) -> AsyncIterator[TurnSpending]:
    reached = await budget_reached(store, budgets, channel, thread_ts)
    if reached is not None:
        log.info("budget.reached", budget=reached.budget, limit=reached.limit_usd)
    with offline_only(reached), metered() as meter:
        try:
            yield TurnSpending(reached, meter)
        finally:
            calls = list(meter.calls)
            if observe is not None and calls:
                observe(calls)
            rows = [  # the offline model costs nothing: a turn that used only it writes nothing
                NewModelCall(
                    agent=c.agent,
                    model=c.model,
                    input_tokens=c.input_tokens,
                    output_tokens=c.output_tokens,
                    cost_usd=c.cost_usd,
                    response_model=c.response_model,
                )
                for c in calls
                if not c.model.startswith(OFFLINE_PREFIX)
            ]
            await store.costs.record(
                TurnCalls(
                    turn=turn, team_id=team_id, channel=channel, thread_ts=thread_ts, calls=rows
                )
            )
