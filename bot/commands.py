"""`/switchboard` subcommands: small answers about the bot's own state."""

from __future__ import annotations

import uuid

from bot.approvals import ApprovalDesk
from storage.store import Store


class StatusCommand:
    def __init__(self, store: Store, model: str) -> None:
        self.store = store
        self.model = model

    async def __call__(self, args: str, user_id: str, channel_id: str) -> str:
        pending = await self.store.approvals.in_status("pending")
        tickets = await self.store.tickets.open_ones()
        incidents = await self.store.incidents.open_ones()
        waiting = await self.store.inbox.recoverable()
        lines = [
            "*Switchboard status*",
            f"• Model: `{self.model}`",
            f"• Approvals waiting: {len(pending)}",
            f"• Open tickets: {len(tickets)}",
            f"• Open incidents: {len(incidents)}"
            + "".join(f"\n    ◦ #{i.id} {i.severity}: {i.title[:80]}" for i in incidents[:5]),
            f"• Messages queued: {len(waiting)}",
        ]
        return "\n".join(lines)


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
