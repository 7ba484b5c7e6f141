"""The triage specialist's tools: classify a request and open a ticket for the thread.

`classify` works from the words alone, so the offline policy and a real model see the
same facts; the ticket goes through the `Tickets` door, keyed so a re-run finds it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.casework import Tickets
from agents.specialists.extract import (
    Category,
    Priority,
    category,
    content_words,
    customer_ids,
    emails,
    invoice_ids,
    mentions_attempt,
    mentions_time,
    priority,
    services,
    severity,
)
from agents.tool import Tool, ToolContext, ToolOutput

VAGUE_WORDS = 5  # fewer meaningful words than this, and nothing specific: ask first


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
                name="classify_request",
                description=(
                    "Classify a request: category, priority, and which details are missing."
                ),
                args=ClassifyArgs,
                run=self.classify_request,
            ),
            Tool(
                name="open_ticket",
                description="Open a support ticket for this Slack thread.",
                args=TicketArgs,
                run=self.open_ticket,
                effect="ticket",
            ),
        )
