"""`/switchboard` subcommands: small answers about the bot's own state."""

from __future__ import annotations

import uuid

from agents.breaker import Breakers
from agents.spend_budget import SpendBudgets, day_start, usd
from bot.approvals.desk import ApprovalDesk
from storage.store import Store


class StatusCommand:
    def __init__(
        self,
        store: Store,
        model: str,
        breakers: Breakers | None = None,
        budgets: SpendBudgets | None = None,
    ) -> None:
        self.store = store
        self.model = model
        self.breakers = breakers
        self.budgets = budgets or SpendBudgets()

    async def __call__(self, args: str, user_id: str, channel_id: str) -> str:
        pending = await self.store.approvals.in_status("pending")
        tickets = await self.store.tickets.open_ones()
        incidents = await self.store.incidents.open_ones()
        waiting = await self.store.inbox.recoverable()
        lines = [
            "*Switchboard status*",
            f"• Model: `{self.model}`",
            *self._unavailable(),
            *await self._cost_today(channel_id),
            f"• Approvals waiting: {len(pending)}",
            f"• Open tickets: {len(tickets)}",
            f"• Open incidents: {len(incidents)}"
            + "".join(f"\n    ◦ #{i.id} {i.severity}: {i.title[:80]}" for i in incidents[:5]),
            f"• Messages queued: {len(waiting)}",
        ]
        return "\n".join(lines)

    async def _cost_today(self, channel: str) -> list[str]:
        """What model calls cost today (UTC), and how much of each daily budget is used."""
        start = day_start()
        calls, cost = await self.store.costs.since(start)
        line = f"• Model cost today (UTC): ${cost:,.4f} in {calls} call{'s' * (calls != 1)}"
        total = self.budgets.total_daily_usd
        if total is not None:
            line += f" · daily budget {_use(cost, total)}"
        lines = [line]
        per_channel = self.budgets.per_channel_daily_usd
        if per_channel is not None and channel:
            here = (await self.store.costs.spent(channel, "", start)).channel_today
            use = _use(here, per_channel)
            lines.append(f"    ◦ This channel: ${here:,.4f} · its daily budget {use}")
        return lines

    def _unavailable(self) -> list[str]:
        """Models skipped now (their breaker is open), why, and when they are tried again."""
        return [
            f"    ◦ :warning: `{b.model}` is not being used: {b.reason}. "
            f"Trying it again in {b.retry_in:.0f} s; meanwhile the fallbacks and the offline "
            "model answer."
            for b in (self.breakers.open_ones() if self.breakers is not None else [])
        ]


def _use(spent: float, limit: float) -> str:
    """`$5.00, 24% used`, or `$5.00, spent` once it is (turns then use the offline model)."""
    if spent >= limit:
        return f"{usd(limit)}, spent: the offline model answers"
    return f"{usd(limit)}, {spent / limit:.0%} used"


class DecideCommand:
    """`/switchboard approve ID` and `/switchboard reject ID [reason]`: the rules of the buttons."""

    def __init__(self, desk: ApprovalDesk, decision: str) -> None:
        self.desk = desk
        self.decision = decision

    async def __call__(self, args: str, user_id: str, channel_id: str) -> str:
        words = args.split(maxsplit=1)
        if not words:
            return f"Usage: `/switchboard {self.decision} APPROVAL_ID" + (
                " [reason]`" if self.decision == "reject" else "`"
            )
        click = f"command-{uuid.uuid4().hex[:8]}"
        if self.decision == "approve":
            return await self.desk.approve(words[0], user_id, click)
        return await self.desk.reject(
            words[0], user_id, words[1] if len(words) > 1 else None, click
        )
