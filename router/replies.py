"""Merging what the specialists said into one reply, and what the reply adds to their words.

Several specialists may answer one turn (two intents, a second opinion): each becomes a part
under its name, unless the first was streamed, which is kept exactly as people saw it. The
acknowledgement a frustrated person is owed opens the reply; notes, pending approvals and the
offline model's notice follow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agents.reply_stream import ReplySink, VettedStream
from agents.results import AgentResult
from agents.spend_budget import notice as budget_notice
from router.decision import RouteDecision
from router.notes import note, preface
from router.turn import PendingApproval, ReplyPart

DEGRADED_NOTE = "_The configured model is unavailable, so the offline model answered._"


@dataclass(frozen=True)
class Ran:
    """One specialist's result in a turn, with the supervisor's note on how it got there."""

    result: AgentResult
    note: str = ""
    second_opinion: bool = False


def merge(
    parts: list[ReplyPart], approvals: list[PendingApproval], degraded: bool, *, streamed: bool
) -> str:
    """The reply's text. A streamed first part is kept as it was shown (no heading), so the
    rest can follow it in the same message."""
    if len(parts) == 1:
        lines = [parts[0].text]
    else:
        lines = [
            p.text
            if streamed and index == 0
            else f"*{p.agent.title()}{' (second opinion)' if p.second_opinion else ''}:* {p.text}"
            for index, p in enumerate(parts)
            if p.text
        ]
    lines += [p.note for p in parts if p.note]
    if approvals:
        lines.append(pending_text(approvals))
    if degraded:
        lines.append(budget_notice() or DEGRADED_NOTE)
    return "\n\n".join(line for line in lines if line)


def gate(sink: ReplySink | None, decision: RouteDecision) -> VettedStream | None:
    """A stream for a turn one specialist answers (parallel specialists are merged at the end).

    The acknowledgement a frustrated person is owed opens the reply, streamed or not.
    """
    if sink is None or len(decision.routes) != 1:
        return None
    return VettedStream(sink, opening=preface(decision))


def annotated(ran: list[Ran], decision: RouteDecision, *, streamed: bool = False) -> list[Ran]:
    """The acknowledgement a frustrated person is owed (already shown when the reply streamed),
    and the offline model's English note."""
    first = ran[0]
    sorry = "" if streamed else preface(decision)
    if sorry:
        first = replace(first, result=replace(first.result, text=f"{sorry}\n\n{first.result.text}"))
    offline = any(i.result.model.startswith("offline/") for i in ran)
    extra = note(decision, offline=offline)
    if extra:
        first = replace(first, note=f"{first.note}\n{extra}".strip())
    return [first, *ran[1:]]


def pending_text(approvals: list[PendingApproval]) -> str:
    """What is waiting for a human, from the approval rows: the only words the reply uses."""
    lines = ["⏳ *Waiting for approval.* Nothing of this has been done yet:"]
    for approval in approvals:
        if len(approval.calls) > 3:
            total = f", *{approval.total}* in total" if approval.total else ""
            lines.append(f"• {len(approval.calls)} actions{total}, each listed on the card")
        elif approval.calls:
            lines += [f"• {summary}" for summary in approval.calls]
            if approval.total:
                lines.append(f"  Total: *{approval.total}*, approved or rejected as one")
        else:
            lines.append(f"• {approval.summary}")
    lines.append("I'll say here what happens once someone decides.")
    return "\n".join(lines)
