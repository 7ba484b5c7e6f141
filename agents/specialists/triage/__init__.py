"""The triage specialist: the first answer to a new request, and a ticket so nothing is lost.

Triage takes what the router could not place with a specialist, and the vague first messages
("hi, something is broken"). A vague message gets a friendly question for exactly what is
missing (account e-mail, what was tried, when it started) instead of a guess; a clear one is
classified, gets a ticket in the store, and a reply that says what happens next.
"""

from __future__ import annotations

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.casework import Tickets
from agents.specialists.triage.policy import policy as offline_policy
from agents.specialists.triage.tools import TriageTools

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


def build_triage(tickets: Tickets, *, model: str | None = None) -> Agent:
    return Agent(
        name="triage",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=TriageTools(tickets).tools(),
        policy=offline_policy,
        model=model,
        suggestion=SUGGESTION,
    )
