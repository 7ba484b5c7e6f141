"""The approval card: what will happen, why, who asked, until when, and two buttons.

The buttons carry only the approval id. Everything the click acts on is read back from the
database, never from the client, so a forged payload cannot change the arguments.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.render import escape
from storage.tables import Approval

APPROVE, REJECT = "approval_approve", "approval_reject"


def when(moment: datetime) -> str:
    """A time every reader sees in their own zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _facts(approval: Approval, thread_link: str | None) -> list[Any]:
    fields = [
        MarkdownTextObject(text=f"*Requested by*\n<@{approval.requester}>"),
        MarkdownTextObject(text=f"*Specialist*\n{approval.agent.title()}"),
        MarkdownTextObject(text=f"*Expires*\n{when(approval.expires_at)}"),
        MarkdownTextObject(text=f"*Approvals needed*\n{approval.required_approvals}"),
    ]
    blocks: list[Any] = [
        HeaderBlock(text=PlainTextObject(text="Approval needed")),
        SectionBlock(text=MarkdownTextObject(text=f"*{escape(approval.summary)}*")),
    ]
    if approval.rationale:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*Why:* {escape(approval.rationale)[:2900]}")
            )
        )
    blocks.append(SectionBlock(fields=fields))
    context = f"Approval `{approval.id}` · tool `{approval.tool}`"
    if thread_link:
        context += f" · <{thread_link}|open the conversation>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    return blocks


def pending_card(
    approval: Approval, thread_link: str | None = None, note: str = ""
) -> list[dict[str, Any]]:
    blocks = _facts(approval, thread_link)
    if note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=note)))
    blocks.append(
        ActionsBlock(
            block_id=f"approval:{approval.id}",
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Approve"),
                    action_id=APPROVE,
                    value=approval.id,
                    style="primary",
                    confirm=ConfirmObject(
                        title="Approve this action?",
                        text=MarkdownTextObject(text=escape(approval.summary)[:300]),
                        confirm="Approve",
                        deny="Cancel",
                    ),
                ),
                ButtonElement(
                    text=PlainTextObject(text="Reject"),
                    action_id=REJECT,
                    value=approval.id,
                    style="danger",
                ),
            ],
        )
    )
    return [b.to_dict() for b in blocks]


def decided_card(
    approval: Approval, outcome: str, thread_link: str | None = None
) -> list[dict[str, Any]]:
    """The card after a decision: the facts, the outcome line, and no buttons."""
    blocks = _facts(approval, thread_link)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=outcome)))
    return [b.to_dict() for b in blocks]


def card_text(approval: Approval) -> str:
    return f"Approval needed: {approval.summary} (requested by <@{approval.requester}>)"
