"""One clarifying question, for when the router cannot tell and no LLM is there to ask.

A wrong specialist costs more than a question: the person gets an answer to something they did
not ask and has to start again. So below the confidence threshold, with no model configured,
the offline path asks once, naming the two routes it hesitates between in plain words, and the
person's answer is routed together with what they first wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

PREFIX = "To get this to the right specialist, one question:"
WHAT: dict[str, str] = {
    "billing": "*billing* (a charge, an invoice, a refund, your plan or payment method)",
    "technical": "a *technical* problem (signing in, an error, the API or an integration)",
    "escalation": "something *urgent* (an outage, a security problem, or you'd like a person)",
    "triage": "an *order, a delivery or general question* (shipping, addresses, feedback, "
    "contacting us)",
}


def question(routes: Sequence[str]) -> str:
    """The question, naming the likeliest routes first (all four when none stands out)."""
    named = [WHAT[r] for r in routes if r in WHAT] or list(WHAT.values())
    options = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f"{PREFIX} is it about {options}? A few words are enough."


def is_question(text: str) -> bool:
    """Whether an assistant message was the router's clarifying question."""
    return text.startswith(PREFIX)
