"""The offline triage policy: classify; ask when vague; else open a ticket and say what's next.

A vague message gets the questions a support person would ask, not a ticket that says nothing.
"""

from __future__ import annotations

from agents.offline import OfflineRequest, OfflineStep
from agents.specialists.extract import (
    failed,
    title_of,
)
from agents.specialists.triage.tools import missing_details

NEXT_STEPS: dict[str, str] = {
    "billing": "Our billing specialist will look at the invoice and reply in this thread.",
    "technical": "Support engineering will pick it up here; runbook steps follow if one fits.",
    "incident": "This sounds urgent: if a service is down for many customers, say *page on-call*.",
    "account": "Someone from support will check the account and reply in this thread.",
    "general": "Someone from support will reply in this thread.",
}


def policy(request: OfflineRequest) -> OfflineStep:
    """Offline triage: classify; ask when vague; otherwise open a ticket and say what's next."""
    text = request.user_text
    classified = request.result("classify_request")
    if classified is None:
        return OfflineStep(tool_calls=[("classify_request", {"text": text})])
    facts = classified.output
    if failed(facts) or facts.get("vague"):
        return OfflineStep(text=_clarify(facts.get("missing") or missing_details(text)))
    ticket = request.result("open_ticket")
    if ticket is None:
        args = {
            "title": title_of(text),
            "category": facts["category"],
            "priority": facts["priority"],
        }
        return OfflineStep(tool_calls=[("open_ticket", args)])
    out = ticket.output
    if failed(out):
        return OfflineStep(text=f"I couldn't open a ticket: {out.get('detail')}. Please try again.")
    lines = [
        f"Thanks, I've opened ticket *{out['ticket']}* ({out['category']}, "
        f"{out['priority']} priority): _{out['title']}_",
        NEXT_STEPS.get(str(out["category"]), NEXT_STEPS["general"]),
    ]
    extra = [m for m in facts.get("missing") or [] if not m.startswith("what you were")]
    if extra:
        lines.append("To speed it up, add " + _join(extra) + ".")
    return OfflineStep(text="\n".join(lines))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clarify(missing: list[str]) -> str:
    asks = missing or ["what you were doing and what happened (the exact error, if any)"]
    return "\n".join(
        [
            "Hi! I'm Switchboard, happy to help. So I can get this to the right person, "
            "could you tell me:",
            *(f"• {item}" for item in asks),
        ]
    )
