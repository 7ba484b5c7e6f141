"""Tell an operator, once a day, that a money budget is spent and turns run on the offline model.

The people in the thread see the one-line notice in each reply; the people who can raise the
budget should hear about it too, but once, not at every turn. The alert goes to the approvals
channel (or, without one, the on-call channel) through the outbox, under a key of the budget, its
scope and the UTC day, so however many turns and replicas find the budget spent, it is queued
once a day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from agents.spend_budget import BudgetReached, usd
from bot.settings import Settings
from router.turn import Reply
from storage.outbox import Outgoing

Extra = Callable[[Reply], Awaitable[list[Outgoing]]]


class BudgetAlerts:
    def __init__(self, channel: str) -> None:
        self.channel = channel

    @classmethod
    def of(cls, settings: Settings) -> BudgetAlerts:
        """Alerts to the approvals channel, else the on-call channel."""
        file = settings.file
        return cls(file.approvals.channel or file.escalation.oncall_channel)

    def after(self, extra: Extra) -> Extra:
        """What goes out with a reply: `extra`'s messages (its cards), then the day's alert."""

        async def both(reply: Reply) -> list[Outgoing]:
            return [*await extra(reply), *await self.for_reply(reply)]

        return both

    async def for_reply(self, reply: Reply) -> list[Outgoing]:
        """The day's alert for the budget that kept this reply offline (deduplicated by key)."""
        if reply.budget is None:
            return []
        return [self.alert(reply.budget, datetime.now(UTC))]

    def alert(self, reached: BudgetReached, now: datetime) -> Outgoing:
        day = now.astimezone(UTC).date()
        scope = {
            "per_channel_daily_usd": reached.channel,
            "per_thread_usd": f"{reached.channel}:{reached.thread_ts}",
            "total_daily_usd": "all",
        }[reached.budget]
        return Outgoing(
            dedupe_key=f"budget:{reached.budget}:{scope}:{day}",
            channel=self.channel,
            text=text(reached, now),
        )


def text(reached: BudgetReached, now: datetime) -> str:
    where = {
        "per_channel_daily_usd": f" in <#{reached.channel}>",
        "per_thread_usd": f" for a thread in <#{reached.channel}> (`{reached.thread_ts}`)",
        "total_daily_usd": "",
    }[reached.budget]
    until = (
        "from now on in that thread"
        if reached.budget == "per_thread_usd"
        else "until midnight UTC ("
        + (now.astimezone(UTC) + timedelta(days=1)).strftime("%a %d %b")
        + ")"
    )
    return (
        f":warning: *Model budget reached:* {reached.what} is spent{where}: "
        f"${reached.spent_usd:,.6f} of {usd(reached.limit_usd)} (`budgets.{reached.budget}`). "
        f"Turns there run on the offline model {until}. "
        "To change it, edit `[budgets]` in switchboard.toml; `switchboard stats` shows the use."
    )
