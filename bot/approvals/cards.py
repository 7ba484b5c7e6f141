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

from agents.results import RequestedCall, money_total
from bot.slack.render import escape, safe_mrkdwn
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
        *_call_list(approval),
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


MAX_LISTED = 25  # the runner refuses more than 25 risky calls a step: every call is listed


def _call_list(approval: Approval) -> list[Any]:
    """Every call an approval holds, one line each, and their total: what a yes approves."""
    calls = [RequestedCall.from_dict(c) for c in approval.calls or []]
    if len(calls) < 2:
        return []
    lines = [f"{n}. {escape(c.summary)}" for n, c in enumerate(calls[:MAX_LISTED], 1)]
    if len(calls) > MAX_LISTED:
        lines.append(f"… and {len(calls) - MAX_LISTED} more (see `switchboard audit`)")
    total = money_total(calls)
    sections = [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in _chunks(lines)]
    if total:
        sections.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Total: {total}* in {len(calls)} actions, approved or rejected as one."
                )
            )
        )
    return sections


def _chunks(lines: list[str], limit: int = 2900) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) + len(line) + 1 <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line[:limit])
    return out


def decision_buttons(approval: Approval, block_id: str, approve_action: str) -> ActionsBlock:
    """Approve (with a confirmation naming the action) and Reject: on cards and in Home alike."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Approve"),
                action_id=approve_action,
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


def pending_card(
    approval: Approval, thread_link: str | None = None, note: str = ""
) -> list[dict[str, Any]]:
    blocks = _facts(approval, thread_link)
    if note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=note)))
    blocks.append(decision_buttons(approval, f"approval:{approval.id}", APPROVE))
    return [b.to_dict() for b in blocks]


def decided_card(
    approval: Approval, outcome: str, thread_link: str | None = None
) -> list[dict[str, Any]]:
    """The card after a decision: the facts, the outcome line, and no buttons."""
    blocks = _facts(approval, thread_link)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=outcome)))
    return [b.to_dict() for b in blocks]


def card_text(approval: Approval) -> str:
    """The notification text: the summary is partly user- and model-written, so made safe."""
    return (
        f"Approval needed: {safe_mrkdwn(approval.summary)} (requested by <@{approval.requester}>)"
    )
