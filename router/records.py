"""What a turn leaves in memory: its rows, built from the route decision, stored as one unit.

The supervisor builds the question, the answer and the audit entries as the turn goes and hands
them to `storage.turns` at its end, so a crash leaves the whole turn or none of it.
"""

from __future__ import annotations

from router.decision import RouteDecision
from router.turn import Turn
from storage.memory import RouteRecord
from storage.tables import AuditEntry, Message
from storage.turns import ThreadKey, TurnRecord


def route_record(decision: RouteDecision) -> RouteRecord:
    return RouteRecord(
        routes=decision.as_json()["routes"],
        confidence=decision.confidence,
        source=decision.source,
        reason=decision.reason,
    )


def key_of(turn: Turn) -> ThreadKey:
    return ThreadKey(turn.team_id, turn.channel, turn.thread_ts)


def turn_record(
    turn: Turn,
    question: Message | None,
    answer: Message,
    audit: list[AuditEntry] | None = None,
) -> TurnRecord:
    """The turn's unit of work; a question's Slack ts lets a re-run of the turn find it."""
    return TurnRecord(
        key=key_of(turn),
        messages=[question, answer] if question is not None else [answer],
        audit=audit or [],
        asked_ts=(question.slack_ts or None) if question is not None else None,
    )
