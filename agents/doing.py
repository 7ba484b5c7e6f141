"""Words for what a specialist is doing, for the thread's loading status while a turn runs.

Slack shows them after the bot's name ("Switchboard is checking invoice INV-1024…"), from
before the first model call until the reply starts. They come from the route and the tools the
model calls, never from the model's own text, and name only what a tool was asked to look at.
"""

from __future__ import annotations

import re
from typing import Any

READING = "is reading your message…"
WORKING = "is working on it…"

_BY_AGENT = {
    "billing": "is looking at the billing records…",
    "technical": "is searching the runbooks…",
    "escalation": "is looking into it…",
    "triage": "is sorting out your request…",
}
_BY_TOOL = {
    "find_customer": "is looking up the customer…",
    "list_invoices": "is reading the invoices…",
    "get_invoice": "is checking invoice {invoice}…",
    "explain_charge": "is checking invoice {invoice}…",
    "list_payments": "is checking the payments…",
    "issue_refund": "is preparing the refund…",
    "issue_credit": "is preparing the credit…",
    "search_knowledge": "is searching the runbooks…",
    "check_status": "is checking service health…",
    "summarize_thread": "is summarising the thread…",
    "page_oncall": "is preparing a page to on-call…",
    "open_incident": "is preparing an incident…",
    "open_handover_ticket": "is opening a ticket for a person…",
    "classify_request": "is sorting out your request…",
    "open_ticket": "is opening a ticket…",
}
_INVOICE = re.compile(r"\bINV-\d{3,}\b", re.IGNORECASE)
_SAFE = re.compile(r"^[\w .#-]{1,40}$")


def for_route(route: str, text: str) -> str:
    """Before the specialist's first model call: what it is about to do."""
    if route == "billing" and (invoice := _INVOICE.search(text)):
        return f"is checking invoice {invoice.group(0).upper()}…"
    return _BY_AGENT.get(route, WORKING)


def for_tool(name: str, arguments: dict[str, Any]) -> str:
    """While a tool runs. An argument is named only when it is a short, plain identifier."""
    template = _BY_TOOL.get(name, WORKING)
    values = {k: str(v) for k, v in arguments.items() if _SAFE.match(str(v))}
    try:
        return template.format(**values)
    except KeyError:
        return re.sub(r" \{\w+\}", "", template)
