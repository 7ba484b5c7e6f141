"""Digest figures: what happened in a time window, aggregated in the database.

Every figure is defined here, once, so the digest, the CLI and the tests agree on it. A window is
half-open, `[start, end)`, by `created_at` (`decided_at` for decisions). A *conversation* is a
thread with at least one user message in the window. Within a thread, message ids give the
order (a thread's messages are appended one at a time).

- by route: conversations by the route of their first user message in the window.
- by specialist: answered conversations by the agent of their first reply in the window.
- escalated: the escalation specialist replied in the window (only replies carry an agent).
- waiting on approval: an approval asked for in the thread was undecided at the window's end
  (so a past window's figure is what it was then, not what it is now).
- resolved: neither escalated nor waiting, and the bot had the last word in the window.
- first reply: for conversations whose first message in the window is the user's, the time from
  it to the first reply in the window; p50 and p95 by the nearest-rank method (the value at
  rank ceil(n·p/100)).
- approvals: requested (created in the window); approved (including since executed or failed),
  rejected and expired (decided in the window); the median time from request to an approve or
  reject decision.
- opened: incidents, and tickets in the escalation category, created in the window.
- corrected: route corrections ("Wrong specialist?") made in the window, one per corrected turn.
- LLM usage: tokens and cost of the replies in the window, by agent.
- topics: for conversations that started in the window, the share whose opening message uses a
  word (stop words left out), over the latest `TOPIC_SAMPLE` such conversations, so the cost
  stays flat however busy the window was.
- new conversations per route per day (the chart): threads by the day they started, in the
  digest's time zone, and the route of their opening message.

Each figure is one query over an index, most of them index-only, so a digest over a million
messages stays within a couple of seconds on SQLite.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.types import Float
from sqlmodel import col

from storage.database import Database
from storage.figures import (
    ESCALATION,
    TOPIC_SAMPLE,
    AgentUsage,
    ApprovalFigures,
    Conversations,
    DailyRoutes,
    OpenItem,
    Topics,
    WindowFigures,
    word_counts,
)
from storage.records import OPEN_STATUSES
from storage.tables import Approval, Correction, Incident, Message, Thread, Ticket

_APPROVED = ("approved", "executed", "failed")


class Reports:
    """Read-only aggregates for digests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self, start: datetime, end: datetime) -> WindowFigures:
        async with self._db.read() as session:
            conn = await _tuned(await session.connection())
            conversations = await _conversations(conn, start, end)
            approvals = await _approvals(conn, start, end)
            usage = await _usage(conn, start, end)
            texts = await _opening_texts(conn, start, end)
            incidents = await _count_created(conn, Incident, start, end)
            escalations = await _count_created(
                conn, Ticket, start, end, col(Ticket.category) == ESCALATION
            )
            corrected = await _count_created(conn, Correction, start, end)
        topics = Topics(len(texts), word_counts(texts))
        return WindowFigures(
            start=start,
            end=end,
            conversations=conversations,
            approvals=approvals,
            usage=usage,
            topics=topics,
            incidents_opened=incidents,
            escalations_opened=escalations,
            corrected=corrected,
        )

    async def open_items(self, *, limit: int = 10) -> tuple[list[OpenItem], int]:
        """Open incidents, then open escalation tickets, newest first; and how many in all."""
        incidents = col(Incident.status).in_(OPEN_STATUSES)
        tickets = and_(col(Ticket.status).in_(OPEN_STATUSES), col(Ticket.category) == ESCALATION)
        async with self._db.read() as session:
            conn = await session.connection()
            newest_incidents = select(Incident).where(incidents).order_by(col(Incident.id).desc())
            newest_tickets = select(Ticket).where(tickets).order_by(col(Ticket.id).desc())
            inc = (await conn.execute(newest_incidents.limit(limit))).all()
            tic = (await conn.execute(newest_tickets.limit(limit))).all()
            total = 0
            for model, where in ((Incident, incidents), (Ticket, tickets)):
                count = select(func.count()).select_from(model).where(where)
                total += int((await conn.execute(count)).scalar_one())
        items = [
            OpenItem(
                kind="incident",
                id=r.id,
                title=r.title,
                label=r.severity,
                channel=r.channel,
                thread_ts=r.thread_ts,
                created_at=r.created_at,
            )
            for r in inc
        ] + [
            OpenItem(
                kind=ESCALATION,
                id=r.id,
                title=r.title,
                label=r.priority,
                channel=r.channel,
                thread_ts=r.thread_ts,
                created_at=r.created_at,
            )
            for r in tic
        ]
        return items[:limit], total

    async def daily_routes(self, days: list[datetime], end: datetime) -> DailyRoutes:
        """New conversations per route in each bucket `[days[i], days[i+1] or end)`.

        The caller computes the bucket starts (local midnights, DST included), so the database
        only compares timestamps, the same way on SQLite and PostgreSQL.
        """
        if not days:
            return DailyRoutes([], {})
        started = col(Thread.created_at)
        bucket = case(
            *((started >= day, index) for index, day in reversed(list(enumerate(days)))),
            else_=-1,
        )
        opening: Any = aliased(Message)
        route = _route(opening)
        stmt = (
            select(bucket, route, func.count())
            .select_from(Thread)
            .join(opening, opening.id == _first_message_id())
            .where(started >= days[0], started < end, opening.role == "user")
            .group_by(bucket, route)
        )
        async with self._db.read() as session:
            rows = (await (await _tuned(await session.connection())).execute(stmt)).all()
        counts: dict[str, list[int]] = {}
        for index, name, number in rows:
            if name is not None and index >= 0:
                counts.setdefault(str(name), [0] * len(days))[int(index)] = int(number)
        return DailyRoutes(days, dict(sorted(counts.items())))


async def _tuned(conn: AsyncConnection) -> AsyncConnection:
    """On PostgreSQL, for this read transaction only: no JIT (compiling the plan costs more than
    it saves on queries this size) and room to sort and hash in memory."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL jit = off")
        await conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    return conn


def _route(table: Any = Message) -> ColumnElement[str]:
    """The primary route of a message's decision, from its JSON."""
    expression: ColumnElement[str] = table.routes[(0, "route")].as_string()
    return expression


def _lookup(column: str, message_id: Any) -> Any:
    """One column of the message with this id (its primary route, for `route`)."""
    row: Any = aliased(Message)
    value = _route(row) if column == "route" else getattr(row, column)
    return select(value).where(row.id == message_id).scalar_subquery()


def _first_question_and_answer(per_thread: Any, dialect: str) -> tuple[Any, ...]:
    """(route, agent, asked at, answered at, FROM clause) of each thread's first question and
    answer. SQLite joins them by primary key. PostgreSQL would hash the whole messages table
    for such a join, so there they are scalar subqueries, which it runs as index lookups."""
    t = per_thread.c
    if dialect == "postgresql":
        return (
            _lookup("route", t.first_user),
            _lookup("agent", t.first_reply),
            _lookup("created_at", t.first_user),
            _lookup("created_at", t.first_reply),
            per_thread,
        )
    asked: Any = aliased(Message)
    answered: Any = aliased(Message)
    source = per_thread.join(asked, asked.id == t.first_user).outerjoin(
        answered, answered.id == t.first_reply
    )
    return _route(asked), answered.agent, asked.created_at, answered.created_at, source


def _first_message_id() -> Any:
    """The id of a thread's first message: one seek on (thread_id, id) per thread."""
    inner: Any = aliased(Message)
    return select(func.min(inner.id)).where(inner.thread_id == col(Thread.id)).scalar_subquery()


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        # EXTRACT gives numeric, slow to sort; the percentiles sort these.
        return cast(extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _waiting(end: datetime) -> Any:
    """Threads with an approval asked for before `end` and not decided by then."""
    return (
        select(col(Thread.id).label("thread_id"))
        .join(
            Approval,
            and_(
                col(Approval.team_id) == col(Thread.team_id),
                col(Approval.channel) == col(Thread.channel),
                col(Approval.thread_ts) == col(Thread.thread_ts),
            ),
        )
        .where(
            col(Approval.created_at) < end,
            or_(col(Approval.decided_at).is_(None), col(Approval.decided_at) >= end),
        )
        .distinct()
        .cte("waiting")
    )


def _per_thread(start: datetime, end: datetime) -> Any:
    """The window's messages grouped by thread: an index-only pass of integer comparisons."""
    created, role, ident = col(Message.created_at), col(Message.role), col(Message.id)
    first_user = func.min(case((role == "user", ident)))
    return (
        select(
            col(Message.thread_id).label("thread_id"),
            first_user.label("first_user"),
            func.min(case((role == "assistant", ident))).label("first_reply"),
            func.max(case((role == "assistant", ident))).label("last_reply"),
            func.max(ident).label("last_id"),
            # Only replies carry an agent, so this needs no look at the role.
            func.max(case((col(Message.agent) == ESCALATION, 1), else_=0)).label("escalated"),
        )
        .where(created >= start, created < end)
        .group_by(col(Message.thread_id))
        .having(first_user.is_not(None))
        .cte("per_thread")
    )


async def _conversations(conn: AsyncConnection, start: datetime, end: datetime) -> Conversations:
    """Per thread: its flags from the grouped pass, then what its first question and first
    answer say, looked up by primary key. The database does the counting; only the reply
    times come back one by one, for the percentiles."""
    per_thread, waiting = _per_thread(start, end), _waiting(end)
    t, w = per_thread.c, waiting.c
    route, agent, asked_at, answered_at, source = _first_question_and_answer(
        per_thread, conn.dialect.name
    )
    is_waiting = w.thread_id.is_not(None)
    # The bot had the last word: the last message in the window is a reply.
    resolved = and_(t.escalated == 0, ~is_waiting, t.last_reply == t.last_id)
    # The first message in the window is the question, and it was answered.
    opened = t.first_user < t.first_reply
    convs = (
        select(
            route.label("route"),
            agent.label("agent"),
            t.escalated.label("escalated"),
            case((is_waiting, 1), else_=0).label("waiting"),
            case((resolved, 1), else_=0).label("resolved"),
            case((opened, _seconds(answered_at, asked_at, conn.dialect.name))).label("seconds"),
        )
        .select_from(source.outerjoin(waiting, w.thread_id == t.thread_id))
        .cte("convs")
        .prefix_with("MATERIALIZED")  # read twice below, computed once
    )
    c = convs.c
    groups = select(
        literal(0), c.route, c.agent, c.escalated, c.waiting, c.resolved, func.count(), null()
    ).group_by(c.route, c.agent, c.escalated, c.waiting, c.resolved)
    rows = (await conn.execute(union_all(groups, _percentile(c, 50), _percentile(c, 95)))).all()
    return _count_conversations(rows)


def _percentile(c: Any, percent: int) -> Any:
    """The nearest-rank percentile of the reply times, picked in the database: the value at
    rank ceil(n * percent / 100), by ORDER BY with an OFFSET computed from the count, so no
    reply time has to leave the database."""
    answered = c.seconds.is_not(None)
    n = func.count()
    offset = case((n > 0, (n * percent + 99) // 100 - 1), else_=0)
    rank = select(offset).where(answered).scalar_subquery()
    picked = (
        select(c.seconds.label("seconds")).where(answered).order_by(c.seconds).limit(1).offset(rank)
    ).subquery()
    return select(
        literal(1), null(), null(), null(), null(), null(), literal(percent), picked.c.seconds
    )


def _count_conversations(rows: Sequence[Any]) -> Conversations:
    routes: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    total = resolved = escalated = waiting = 0
    percentiles: dict[int, float] = {}
    for kind, route, agent, is_escalated, is_waiting, is_resolved, number, seconds in rows:
        if kind == 1:
            percentiles[number] = round(float(seconds), 3)
            continue
        total += number
        escalated += number * is_escalated
        waiting += number * is_waiting
        resolved += number * is_resolved
        routes[str(route)] += number if route is not None else 0
        if agent is not None:
            agents[str(agent)] += number
    return Conversations(
        total=total,
        by_route=_ranked(+routes),
        by_specialist=_ranked(agents),
        resolved=resolved,
        escalated=escalated,
        waiting_approval=waiting,
        first_reply_p50=percentiles.get(50),
        first_reply_p95=percentiles.get(95),
    )


def _ranked(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


async def _approvals(conn: AsyncConnection, start: datetime, end: datetime) -> ApprovalFigures:
    created, decided = col(Approval.created_at), col(Approval.decided_at)
    asked = select(func.count()).select_from(Approval).where(created >= start, created < end)
    requested = (await conn.execute(asked)).scalar_one()
    rows = (
        await conn.execute(
            select(col(Approval.status), col(Approval.created_at), col(Approval.decided_at)).where(
                decided >= start, decided < end
            )
        )
    ).all()
    statuses = Counter("approved" if s in _APPROVED else s for s, _, _ in rows)
    waits = [
        (decided_at - created_at).total_seconds()
        for status, created_at, decided_at in rows
        if status != "expired"
    ]
    return ApprovalFigures(
        requested=int(requested),
        approved=statuses["approved"],
        rejected=statuses["rejected"],
        expired=statuses["expired"],
        median_decision_seconds=statistics.median(waits) if waits else None,
    )


async def _usage(conn: AsyncConnection, start: datetime, end: datetime) -> list[AgentUsage]:
    """Index-only: the created_at index carries the agent and the usage columns."""
    created = col(Message.created_at)
    stmt = (
        select(
            col(Message.agent),
            func.count(),
            func.sum(col(Message.prompt_tokens)),
            func.sum(col(Message.completion_tokens)),
            func.sum(col(Message.cost_usd)),
        )
        .where(created >= start, created < end, col(Message.role) == "assistant")
        .where(col(Message.agent).is_not(None))
        .group_by(col(Message.agent))
    )
    rows = (await conn.execute(stmt)).all()
    usage = [
        AgentUsage(
            agent=str(agent),
            replies=int(n),
            prompt_tokens=int(p or 0),
            completion_tokens=int(c or 0),
            cost_usd=round(float(u or 0), 6),
        )
        for agent, n, p, c, u in rows
    ]
    return sorted(usage, key=lambda u: (-u.cost_usd, -u.tokens, u.agent))


async def _opening_texts(conn: AsyncConnection, start: datetime, end: datetime) -> list[str]:
    """The opening user messages of the latest `TOPIC_SAMPLE` conversations started in the
    window."""
    started = col(Thread.created_at)
    opening: Any = aliased(Message)
    stmt = (
        select(opening.text)
        .select_from(Thread)
        .join(opening, opening.id == _first_message_id())
        .where(started >= start, started < end, opening.role == "user")
        .order_by(started.desc())
        .limit(TOPIC_SAMPLE)
    )
    return [str(text) for (text,) in (await conn.execute(stmt)).all()]


async def _count_created(
    conn: AsyncConnection, model: Any, start: datetime, end: datetime, *where: Any
) -> int:
    created = model.created_at
    stmt = select(func.count()).select_from(model).where(created >= start, created < end, *where)
    return int((await conn.execute(stmt)).scalar_one())
