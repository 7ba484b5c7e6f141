"""How an approval ended, in words for its card, rebuilt from its row alone.

Everything after a decision (the audit entry, the card's last line, the agent's follow-up) must
happen once even when the process dies halfway, so each is derived from the approval row and
re-done at start-up where it is missing. That only works if the words come from the row, not
from the variables of the run that died: hence these functions.
"""

from __future__ import annotations

from typing import Any

from agents.results import ToolOutcome
from bot.approvals.cards import when
from bot.slack.render import safe_mrkdwn
from storage.tables import Approval

DECIDED = ("executed", "failed", "rejected", "expired")


def outcome_of(approval: Approval) -> ToolOutcome:
    """The outcome the agent resumes with, as the row records it."""
    result: dict[str, Any] = dict(approval.result or {})
    calls = tuple(
        ToolOutcome(
            status="executed" if c.get("status") == "executed" else "failed",
            output={k: v for k, v in c.items() if k != "status"},
            detail=str(c.get("detail") or ""),
        )
        for c in result.get("calls") or []
        if isinstance(c, dict)
    )
    if approval.status == "executed":
        return ToolOutcome(status="executed", output=result, detail="", calls=calls)
    if approval.status == "failed":
        return ToolOutcome(status="failed", output=result, detail=approval.error or "", calls=calls)
    if approval.status == "rejected":
        return ToolOutcome(
            status="rejected", detail=approval.reason or f"rejected by {approval.decided_by}"
        )
    return ToolOutcome(status="expired", detail="nobody decided in time")


def final_line(approval: Approval) -> tuple[str, str]:
    """The card's last line for a decided approval, and the outbox key suffix of that update."""
    who = f"<@{approval.decided_by}>" if approval.decided_by else "someone"
    at = when(approval.decided_at) if approval.decided_at else "an unknown time"
    if approval.status in ("executed", "failed"):
        outcome = outcome_of(approval)
        verb = (
            ":white_check_mark: Approved" if approval.status == "executed" else ":warning: Approved"
        )
        return f"{verb} by {who} at {at}: {result_words(outcome)}", "final"
    if approval.status == "rejected":
        reason = (approval.reason or "").strip().rstrip(".")  # the line ends with its own stop
        why = f": {safe_mrkdwn(reason)}" if reason else ""
        return f":x: Rejected by {who} at {at}{why}. Nothing was done.", "rejected"
    return f":hourglass: Expired at {when(approval.expires_at)}. Nothing was done.", "expired"


def expired_words(approval: Approval) -> str:
    return f"This request expired at {when(approval.expires_at)}. Nothing was done."


def result_words(outcome: ToolOutcome) -> str:
    """One line for the card: what the tool reports it did, in its own words when it has them."""
    if outcome.calls:
        done = sum(1 for o in outcome.calls if o.status == "executed")
        words = f"{done} of {len(outcome.calls)} done"
        return words + (f"; failed: {safe_mrkdwn(outcome.detail)}" if outcome.detail else "")
    if outcome.status != "executed":
        return f"it failed ({safe_mrkdwn(outcome.detail)})"
    output = outcome.output
    for key in ("description", "detail", "summary"):
        if output.get(key):
            return safe_mrkdwn(str(output[key]))
    ids = [str(output[k]) for k in ("movement", "reference", "incident", "ticket") if output.get(k)]
    return "done" + (f" ({', '.join(ids)})" if ids else "")
