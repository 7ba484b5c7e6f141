"""What the App Home shows at a glance: the day's turns by route and their cost, and the latest
escalations. Small aggregates over the indexes the digests use (`ix_messages_created_at`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import col

from storage.database import Database
from storage.figures import ESCALATION
from storage.tables import Incident, Message, Ticket


@dataclass(frozen=True, kw_only=True)
class RouteActivity:
    """Turns routed to one route in a window, and what that specialist's replies cost."""

    route: str
    turns: int
    replies: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True, kw_only=True)
class Escalation:
    """An escalation ticket or an incident, newest first on the Home tab."""

    kind: str  # "incident" or "escalation"
    id: int
    title: str
    level: str  # severity of an incident, priority of a ticket
    status: str
    channel: str
    thread_ts: str
    created_at: datetime


def _route() -> ColumnElement[str]:
    expression: ColumnElement[str] = col(Message.routes)[(0, "route")].as_string()
    return expression


class Activity:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def by_route(self, start: datetime, end: datetime) -> list[RouteActivity]:
        """User turns by the route they were given, with the replies of that specialist (an
        agent answers for its own route), in `[start, end)`; busiest first."""
        created = col(Message.created_at)
        route = _route()  # one expression in both clauses: PostgreSQL compares their binds
        turns = (
            select(route, func.count())
            .where(created >= start, created < end, col(Message.role) == "user")
            .group_by(route)
        )
        replies = (
            select(
                col(Message.agent),
                func.count(),
                func.sum(col(Message.prompt_tokens) + col(Message.completion_tokens)),
                func.sum(col(Message.cost_usd)),
            )
            .where(created >= start, created < end, col(Message.role) == "assistant")
            .where(col(Message.agent).is_not(None))
            .group_by(col(Message.agent))
        )
        async with self._db.read() as session:
            conn = await session.connection()
            asked: dict[str, int] = {
                str(r): int(n) for r, n in (await conn.execute(turns)).all() if r is not None
            }
            answered: dict[str, tuple[int, int, float]] = {
                str(a): (int(n), int(t or 0), float(c or 0))
                for a, n, t, c in (await conn.execute(replies)).all()
            }
        rows = [
            RouteActivity(
                route=name,
                turns=asked.get(name, 0),
                replies=replies,
                tokens=tokens,
                cost_usd=cost,
            )
            for name in sorted(set(asked) | set(answered))
            for replies, tokens, cost in [answered.get(name, (0, 0, 0.0))]
        ]
        return sorted(rows, key=lambda r: (-r.turns, -r.cost_usd, r.route))

    async def escalations(self, since: datetime, *, limit: int = 5) -> list[Escalation]:
        """Incidents and escalation tickets opened since `since`, newest first."""
        async with self._db.read() as session:
            conn = await session.connection()
            incidents = await conn.execute(
                select(Incident)
                .where(col(Incident.created_at) >= since)
                .order_by(col(Incident.id).desc())
                .limit(limit)
            )
            tickets = await conn.execute(
                select(Ticket)
                .where(col(Ticket.created_at) >= since, col(Ticket.category) == ESCALATION)
                .order_by(col(Ticket.id).desc())
                .limit(limit)
            )
            found: list[Any] = [
                Escalation(
                    kind="incident",
                    id=r.id,
                    title=r.title,
                    level=r.severity,
                    status=r.status,
                    channel=r.channel,
                    thread_ts=r.thread_ts,
                    created_at=r.created_at,
                )
                for r in incidents.all()
            ] + [
                Escalation(
                    kind=ESCALATION,
                    id=r.id,
                    title=r.title,
                    level=r.priority,
                    status=r.status,
                    channel=r.channel,
                    thread_ts=r.thread_ts,
                    created_at=r.created_at,
                )
                for r in tickets.all()
            ]
        found.sort(key=lambda e: e.created_at, reverse=True)
        return found[:limit]
