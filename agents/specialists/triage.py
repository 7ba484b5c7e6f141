"""The triage specialist: the first answer to a new request, and a ticket so nothing is lost.

Triage takes what the router could not place with a specialist, and the vague first messages
("hi, something is broken"). A vague message gets a friendly question for exactly what is
missing (account e-mail, what was tried, when it started) instead of a guess; a clear one is
classified, gets a ticket in the store, and a reply that says what happens next.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.casework import Tickets
from agents.offline import OfflineRequest, OfflineStep
from agents.specialists.extract import (
    Category,
    Priority,
    category,
    content_words,
    customer_ids,
    emails,
    failed,
    invoice_ids,
    mentions_attempt,
    mentions_time,
    priority,
    services,
    severity,
    title_of,
)
from agents.tool import Tool, ToolContext, ToolOutput

INSTRUCTIONS = """You are Switchboard's triage specialist: the first responder for support
requests in Slack that no other specialist has picked up.

- If the request is vague, greet the person and ask only for what is missing: the account
  e-mail (or invoice number), what they were doing and the exact error, when it started, what
  they tried. Do not open a ticket for a message that says nothing yet.
- Otherwise call classify_request, then open_ticket with a short title, the category and the
  priority, and reply with the ticket number and what happens next.
- Use the tools rather than guessing; never claim a ticket exists unless open_ticket returned
  it. Risky actions (refunds, pages) belong to other specialists and need a human's approval,
  which the system handles.
- Reply in Slack mrkdwn: short and warm, bullets with •."""

SUGGESTION = SuggestedPrompt("What can you do?", "Hi! What can you help me with?")
DESCRIPTION = (
    "Triage: first contact for new or unclear requests; asks for missing details, classifies, "
    "and opens a ticket."
)

VAGUE_WORDS = 5  # fewer meaningful words than this, and nothing specific: ask first
NEXT_STEPS: dict[str, str] = {
    "billing": "Our billing specialist will look at the invoice and reply in this thread.",
    "technical": "Support engineering will pick it up here; runbook steps follow if one fits.",
    "incident": "This sounds urgent: if a service is down for many customers, say *page on-call*.",
    "account": "Someone from support will check the account and reply in this thread.",
    "general": "Someone from support will reply in this thread.",
}


class ClassifyArgs(BaseModel):
    text: str = Field(min_length=1, description="The request, in the user's words.")


class TicketArgs(BaseModel):
    title: str = Field(min_length=3, max_length=200, description="A short title for the ticket.")
    category: Category = Field(description="billing, technical, incident, account or general.")
    priority: Priority = Field(default="normal", description="low, normal, high or urgent.")


def missing_details(text: str) -> list[str]:
    """What a support person would ask for next, in the order they would ask."""
    missing = []
    if not (emails(text) or customer_ids(text) or invoice_ids(text)):
        missing.append("the account e-mail (or the invoice number, for billing)")
    if len(content_words(text)) < 6:
        missing.append("what you were doing and what happened (the exact error, if any)")
    if not mentions_time(text):
        missing.append("when it started")
    if not mentions_attempt(text):
        missing.append("what you have tried so far")
    return missing


def classify(text: str) -> dict[str, Any]:
    """Category, priority and whether there is enough to act on, from the words alone."""
    kind = category(text)
    named = services(text) or emails(text) or customer_ids(text) or invoice_ids(text)
    specific = bool(named) or kind == "incident" or bool(re.search(r"\d|_", text))
    vague = kind == "general" or (len(content_words(text)) < VAGUE_WORDS and not specific)
    return {
        "category": kind,
        "priority": priority(text),
        "severity": severity(text),
        "services": services(text),
        "vague": vague,
        "missing": missing_details(text),
    }


class TriageTools:
    def __init__(self, tickets: Tickets) -> None:
        self.tickets = tickets

    async def classify_request(self, args: ClassifyArgs, ctx: ToolContext) -> ToolOutput:
        return classify(args.text)

    async def open_ticket(self, args: TicketArgs, ctx: ToolContext) -> ToolOutput:
        ticket = await self.tickets.open(
            channel=ctx.channel,
            thread_ts=ctx.thread_ts,
            title=args.title,
            category=args.category,
            priority=args.priority,
            requester=ctx.user_id or None,
            idempotency_key=ctx.idempotency_key,  # a turn re-run after a crash finds it
        )
        return {
            "ticket": f"#{ticket.id}",
            "ticket_id": ticket.id,
            "title": ticket.title,
            "category": ticket.category,
            "priority": ticket.priority,
        }

    def tools(self) -> tuple[Tool[Any], ...]:
        return (
            Tool(
                "classify_request",
                "Classify a request: category, priority, and which details are missing.",
                ClassifyArgs,
                self.classify_request,
            ),
            Tool(
                "open_ticket",
                "Open a support ticket for this Slack thread.",
                TicketArgs,
                self.open_ticket,
                effect="ticket",
            ),
        )


def build_triage(tickets: Tickets, *, model: str | None = None) -> Agent:
    return Agent(
        name="triage",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=TriageTools(tickets).tools(),
        policy=policy,
        model=model,
        suggestion=SUGGESTION,
    )


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
