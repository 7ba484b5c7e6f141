"""The lines the supervisor adds to a specialist's reply, and why.

A frustrated person is owed an acknowledgement before anything else, and a person who wrote in
Spanish should be told in one line that the offline model answers in English, rather than
wonder why the reply is in another language.
"""

from __future__ import annotations

from router.decision import RouteDecision
from router.language import NAMES

ACKNOWLEDGED = {
    "asked before": "I'm sorry you've had to ask more than once.",
    "feels ignored": "I'm sorry nobody has got back to you.",
}
ACK_DEFAULT = "I'm sorry this has been so frustrating."
ACK_HUMAN = "I've brought in escalation so a person picks this up."
ENGLISH_ONLY = "_I can only answer in English for now: the offline model doesn't write {language}._"


def preface(decision: RouteDecision) -> str:
    """The acknowledgement that opens the reply to a frustrated person ("" for anyone else)."""
    if decision.upset is None:
        return ""
    return f"{ACKNOWLEDGED.get(decision.upset, ACK_DEFAULT)} {ACK_HUMAN}"


def note(decision: RouteDecision, *, offline: bool) -> str:
    """One line saying the reply is in English, when the message was not and the model offline."""
    if not offline or decision.language not in NAMES:
        return ""
    return ENGLISH_ONLY.format(language=NAMES[decision.language])
