"""Reject asks why: a modal for the reason, then the desk rejects with it.

Reject on a card (and in the Home tab) opens a modal (`views.open`) asking for a reason, but
only for someone the desk would let reject a pending request: anyone else, or a click on a
decided request, goes straight to the desk, which refuses or explains as it does for every
click (and audits it). Submitting the modal (`view_submission`) rejects through the desk with
the reason, so the card's last line and the thread's follow-up carry it, exactly as
`/switchboard reject ID reason` does. The modal carries only ids (the approval, where its card
is); what is rejected is read back from the database.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.render import escape
from storage.tables import Approval

if TYPE_CHECKING:  # the desk loads the supervisor and litellm
    from bot.approvals.desk import ApprovalDesk

log = structlog.stdlib.get_logger(__name__)

REASON_VIEW = "approval_reject_reason"
REASON_BLOCK, REASON_INPUT = "reason", "reason_text"
MAX_REASON = 500
EMPTY = "Say why, so the requester knows what to do instead."

Publish = Callable[[str, str], Awaitable[None]]  # (user, notice): the Home tab shows the answer


def reason_modal(approval: Approval, card: tuple[str, str] | None, home: bool) -> dict[str, Any]:
    """The modal: what is being rejected, and a required reason."""
    metadata = {"approval": approval.id, "card": list(card) if card else None, "home": home}
    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Reject request"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(approval.summary)[:2800]}*\n"
                    f"Requested by <@{approval.requester}> · approval `{approval.id}`"
                )
            ).to_dict(),
            InputBlock(
                block_id=REASON_BLOCK,
                label=PlainTextObject(text="Why are you rejecting it?"),
                hint=PlainTextObject(text="The card and the thread will show this."),
                element=PlainTextInputElement(
                    action_id=REASON_INPUT, multiline=True, max_length=MAX_REASON
                ),
            ).to_dict(),
        ],
    }


class Reasons:
    def __init__(self, desk: ApprovalDesk, client: AsyncWebClient, publish_home: Publish) -> None:
        self.desk = desk
        self.client = client
        self.publish_home = publish_home

    async def on_reject(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Reject clicked on a card or in the Home tab."""
        await ack()
        user = str(body["user"]["id"])
        approval_id = str(action.get("value"))
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        container = body.get("container") or {}
        home = container.get("type") == "view"
        card = None
        if container.get("channel_id") and container.get("message_ts"):
            card = (str(container["channel_id"]), str(container["message_ts"]))
        approval = await self.desk.store.approvals.get(approval_id)
        askable = (
            approval is not None
            and approval.status == "pending"
            and await self.desk.may_decide(approval, user, "reject") is None
        )
        if not askable or approval is None:
            said = await self.desk.reject(approval_id, user, None, click, card)
            if home:
                await self.publish_home(user, said)
            return
        try:
            await self.client.views_open(
                trigger_id=str(body.get("trigger_id")), view=reason_modal(approval, card, home)
            )
        except SlackApiError as exc:  # the trigger expired (over 3 s): ask for a new click
            log.warning("reasons.open_failed", error=str(exc.response.get("error")))

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The reason was given: reject with it (the modal closes at once)."""
        values = (view.get("state") or {}).get("values") or {}
        entered = ((values.get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}).get("value")
        reason = " ".join(str(entered or "").split())[:MAX_REASON]
        if not reason:
            await ack(response_action="errors", errors={REASON_BLOCK: EMPTY})
            return
        await ack()
        user = str(body["user"]["id"])
        try:
            meta = json.loads(str(view.get("private_metadata") or "{}"))
        except ValueError:
            meta = {}
        card = meta.get("card")
        where = (str(card[0]), str(card[1])) if isinstance(card, list) and len(card) == 2 else None
        said = await self.desk.reject(
            str(meta.get("approval")), user, reason, f"view:{view.get('id')}", where
        )
        if meta.get("home"):
            await self.publish_home(user, said)
