"""The App Home tab as Block Kit: what waits for the viewer's decision, then support at a glance.

The approvals listed are those the viewer may decide (the card's rules, asked of the desk), each
with the card's two buttons: Approve (this module's action, which goes to the same desk) and
Reject (the card's own action, which asks for a reason). Buttons carry only the approval id.
Summaries, titles and reasons are partly user- and model-written, so they are escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.approvals.cards import decision_buttons, when
from bot.slack.render import escape
from storage.activity import Escalation, RouteActivity
from storage.tables import Approval, Incident, Ticket

HOME_APPROVE = "home_approve"
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
SHOWN_APPROVALS = 10  # each takes two blocks; a Home tab holds 100
SHOWN_ITEMS = 5


@dataclass(frozen=True, kw_only=True)
class DigestLine:
    """A configured digest and when it runs next (None: its schedule has no next time)."""

    name: str
    channel: str
    cron: str
    timezone: str
    next_run: datetime | None


@dataclass(frozen=True, kw_only=True)
class HomeData:
    """Everything one person's Home tab shows, read from the database for them."""

    user: str
    now: datetime
    approvals: list[Approval]
    incidents: list[Incident]
    tickets: list[Ticket]
    escalations: list[Escalation]
    today: list[RouteActivity]
    zone: str
    digests: list[DigestLine] = field(default_factory=list)


def home_view(data: HomeData, notice: str = "") -> dict[str, Any]:
    """The view for views.publish. `notice` is the desk's answer to the viewer's last click."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Switchboard")),
        _context(f"Updated {when(data.now)} · for <@{data.user}>"),
    ]
    if notice:
        blocks.append(_section(f":information_source: {notice}", "home_notice"))
    blocks += _approvals(data.approvals)
    blocks.append(DividerBlock())
    blocks += _open_records(data.incidents, data.tickets)
    blocks += _escalations(data.escalations)
    blocks.append(DividerBlock())
    blocks += _today(data.today, data.zone)
    blocks += _digests(data.digests)
    return {"type": "home", "blocks": [b.to_dict() for b in blocks]}


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:3000]), block_id=block_id)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:3000])])


def _approvals(approvals: list[Approval]) -> list[Block]:
    title = f"*Waiting for your decision* ({len(approvals)})"
    if not approvals:
        return [_section(title), _context("Nothing waits for your decision.")]
    blocks: list[Block] = [_section(title)]
    for approval in approvals[:SHOWN_APPROVALS]:
        facts = (
            f"*{escape(approval.summary)}*\n"
            f"Requested by <@{approval.requester}> · {approval.agent.title()} · "
            f"expires {when(approval.expires_at)} · in <#{approval.channel}>"
        )
        if approval.required_approvals > 1:
            facts += f" · needs {approval.required_approvals} approvers"
        blocks.append(_section(facts, f"home_approval_text:{approval.id}"))
        blocks.append(_buttons(approval))
    if len(approvals) > SHOWN_APPROVALS:
        more = len(approvals) - SHOWN_APPROVALS
        blocks.append(_context(f"… and {more} more: `/switchboard status` lists them."))
    return blocks


def _buttons(approval: Approval) -> ActionsBlock:
    return decision_buttons(approval, f"home_approval:{approval.id}", HOME_APPROVE)


def _open_records(incidents: list[Incident], tickets: list[Ticket]) -> list[Block]:
    inc = [
        f"• *#{i.id}* {escape(i.severity)} · {escape(i.title)[:200]} · <#{i.channel}> · "
        f"{escape(i.status)}"
        for i in _newest(incidents)
    ]
    tic = [
        f"• *#{t.id}* {escape(t.priority)} · {escape(t.title)[:200]} · <#{t.channel}>"
        for t in _newest(tickets)
    ]
    return [
        _section(f"*Open incidents* ({len(incidents)})\n" + ("\n".join(inc) or "None.")),
        _section(f"*Open tickets* ({len(tickets)})\n" + ("\n".join(tic) or "None.")),
    ]


def _newest(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: r.id or 0, reverse=True)[:SHOWN_ITEMS]


def _escalations(escalations: list[Escalation]) -> list[Block]:
    lines = [
        f"• {when(e.created_at)} · {'Incident' if e.kind == 'incident' else 'Escalation'} "
        f"*#{e.id}* {escape(e.level)} · {escape(e.title)[:200]} · <#{e.channel}> · "
        f"{escape(e.status)}"
        for e in escalations
    ]
    return [_section("*Recent escalations* (7 days)\n" + ("\n".join(lines) or "None."))]


def _today(rows: list[RouteActivity], zone: str) -> list[Block]:
    title = f"*Today* ({escape(zone)}): turns by route, and what the replies cost"
    if not rows:
        return [_section(title), _context("No turns yet today.")]
    fields = [
        MarkdownTextObject(
            text=f"*{r.route.title()}*\n{r.turns} turn{'s' * (r.turns != 1)} · "
            f"{r.replies} repl{'ies' if r.replies != 1 else 'y'} · ${r.cost_usd:,.4f}"
        )
        for r in rows[:10]
    ]
    total = sum(r.cost_usd for r in rows)
    turns = sum(r.turns for r in rows)
    return [
        _section(title),
        SectionBlock(fields=fields),
        _context(f"{turns} turns, ${total:,.4f} in all"),
    ]


def _digests(digests: list[DigestLine]) -> list[Block]:
    if not digests:
        return [
            _section("*Digests*"),
            _context("No digests are configured (`[[digests]]` in switchboard.toml)."),
        ]
    lines = [
        f"• *{escape(d.name)}* to {_channel(d.channel)} · `{d.cron}` {escape(d.timezone)} · "
        + (f"next {when(d.next_run)}" if d.next_run else "no next run")
        for d in digests
    ]
    return [_section("*Digests*\n" + "\n".join(lines))]


def _channel(ref: str) -> str:
    """A configured channel: linked when it is an id, as written when it is a name."""
    return f"<#{ref}>" if CHANNEL_ID.match(ref) else escape(ref)
