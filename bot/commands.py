"""`/switchboard` subcommands: small answers about the bot's own state."""

from __future__ import annotations

import uuid

from agents.breaker import Breakers
from bot.approvals import ApprovalDesk
from storage.store import Store


class StatusCommand:
    def __init__(self, store: Store, model: str, breakers: Breakers | None = None) -> None:
        self.store = store
        self.model = model
        self.breakers = breakers

    async def __call__(self, args: str, user_id: str, channel_id: str) -> str:
        pending = await self.store.approvals.in_status("pending")
        tickets = await self.store.tickets.open_ones()
        incidents = await self.store.incidents.open_ones()
        waiting = await self.store.inbox.recoverable()
        lines = [
            "*Switchboard status*",
            f"• Model: `{self.model}`",
            *self._unavailable(),
            f"• Approvals waiting: {len(pending)}",
            f"• Open tickets: {len(tickets)}",
            f"• Open incidents: {len(incidents)}"
            + "".join(f"\n    ◦ #{i.id} {i.severity}: {i.title[:80]}" for i in incidents[:5]),
            f"• Messages queued: {len(waiting)}",
        ]
        return "\n".join(lines)

    def _unavailable(self) -> list[str]:
        """Models skipped now (their breaker is open), why, and when they are tried again."""
        return [
            f"    ◦ :warning: `{b.model}` is not being used: {b.reason}. "
            f"Trying it again in {b.retry_in:.0f} s; meanwhile the fallbacks and the offline "
            "model answer."
            for b in (self.breakers.open_ones() if self.breakers is not None else [])
        ]


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
