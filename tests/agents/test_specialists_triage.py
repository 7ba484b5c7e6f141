"""The triage specialist: asks when a message says too little, else opens a ticket."""

from __future__ import annotations

import pytest

from agents.llm import LLM, LLMSettings
from agents.results import Turn
from agents.runner import Runner
from agents.specialists.triage import build_triage
from agents.specialists.triage.tools import (
    ClassifyArgs,
    TicketArgs,
    TriageTools,
    classify,
)
from agents.tool import ToolContext
from bot.doors import StoredTickets
from storage.store import Store

CLEAR = (
    "Our webhooks stopped arriving since 9am today, we already tried re-enabling the "
    "endpoint. Account ops@acme.example"
)


def ask(text: str) -> Turn:
    return Turn(
        team_id="T1", channel="C7", thread_ts="200.5", user_id="U9", text=text, event_id="Ev1"
    )


def runner() -> Runner:
    return Runner(LLM(LLMSettings(retries=0, timeout=10)))


@pytest.mark.parametrize(
    ("text", "category", "priority", "vague"),
    [
        ("hi", "general", "normal", True),
        ("It doesn't work", "general", "normal", True),
        ("Refund please", "billing", "normal", True),
        (CLEAR, "technical", "normal", False),
        ("The API is down for everyone", "incident", "urgent", False),
        ("Why was I charged twice on INV-1018?", "billing", "normal", False),
    ],
)
def test_classify(text: str, category: str, priority: str, vague: bool) -> None:
    facts = classify(text)
    assert (facts["category"], facts["priority"], facts["vague"]) == (category, priority, vague)


def test_missing_details_name_only_what_is_missing() -> None:
    assert classify(CLEAR)["missing"] == []
    assert classify("hi")["missing"] == [
        "the account e-mail (or the invoice number, for billing)",
        "what you were doing and what happened (the exact error, if any)",
        "when it started",
        "what you have tried so far",
    ]


async def test_tools_on_their_own(sqlite_store: Store) -> None:
    tools = TriageTools(StoredTickets(sqlite_store.tickets))
    ctx = ToolContext(
        team_id="T1",
        channel="C7",
        thread_ts="200.5",
        user_id="U9",
        idempotency_key="k",
        agent="triage",
    )
    assert (await tools.classify_request(ClassifyArgs(text=CLEAR), ctx))["services"] == ["webhooks"]
    args = TicketArgs(title="Webhooks stopped", category="technical", priority="high")
    out = await tools.open_ticket(args, ctx)
    ticket = await sqlite_store.tickets.get(out["ticket_id"])
    assert ticket is not None
    assert (ticket.channel, ticket.thread_ts, ticket.requester) == ("C7", "200.5", "U9")
    assert (ticket.title, ticket.category, ticket.priority) == (
        "Webhooks stopped",
        "technical",
        "high",
    )


async def test_vague_message_gets_a_greeting_and_questions(sqlite_store: Store) -> None:
    result = await runner().run(
        build_triage(StoredTickets(sqlite_store.tickets)), ask("hi, something is broken"), []
    )
    assert result.text.startswith("Hi! I'm Switchboard")
    assert "• the account e-mail" in result.text and "• when it started" in result.text
    assert await sqlite_store.tickets.open_ones() == []


async def test_clear_request_opens_a_ticket_and_says_what_is_next(sqlite_store: Store) -> None:
    result = await runner().run(build_triage(StoredTickets(sqlite_store.tickets)), ask(CLEAR), [])
    assert [c.name for c in result.tool_calls] == ["classify_request", "open_ticket"]
    [ticket] = await sqlite_store.tickets.for_thread("C7", "200.5")
    assert (ticket.category, ticket.priority, ticket.requester) == ("technical", "normal", "U9")
    assert (
        ticket.title
        == "Our webhooks stopped arriving since 9am today, we already tried re-enabling…"
    )
    assert f"ticket *#{ticket.id}* (technical, normal priority)" in result.text
    assert "Support engineering will pick it up" in result.text


async def test_ticket_reply_asks_for_what_would_speed_it_up(sqlite_store: Store) -> None:
    result = await runner().run(
        build_triage(StoredTickets(sqlite_store.tickets)), ask("The API is down for everyone"), []
    )
    assert "(incident, urgent priority)" in result.text and "page on-call" in result.text
    assert "To speed it up, add the account e-mail" in result.text
