"""Approve and Reject on a card, as Bolt action listeners: ack at once, then let the desk decide.

The desk's rules (who may decide, expiry, exactly once) apply whatever the surface: a card in a
thread, one in the approvals channel, the Home tab, the slash command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck

if TYPE_CHECKING:  # the desk loads the supervisor; the listener is registered before
    from bot.approvals.desk import ApprovalDesk


def on_click(desk: ApprovalDesk, decision: str) -> Callable[..., Awaitable[None]]:
    """A Bolt action listener: ack at once, then decide (the card is updated through the outbox)."""

    async def listener(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body["user"]["id"])
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        container = body.get("container") or {}
        card = None
        if container.get("channel_id") and container.get("message_ts"):
            card = (str(container["channel_id"]), str(container["message_ts"]))
        if decision == "approve":
            await desk.approve(str(action.get("value")), user, click, card)
        else:
            await desk.reject(str(action.get("value")), user, None, click, card)

    return listener
