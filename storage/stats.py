"""What `switchboard stats` shows: turns, routes, model calls, tokens, cost and approvals, by
channel and by agent, since a moment.

Definitions, in one place:

- turns: user messages in the window; by channel, the channel of their thread.
- replies: assistant messages in the window; by agent, the agent that wrote them.
- routes: user messages by the primary route of their decision and the stage that decided it.
- model calls, tokens, cost: every answered model call in the window (`model_calls`), the
  router's classifier included, by the channel and the agent (or "router") that made it, by
  model, and by UTC day.
- approvals: approvals asked for in the window, by channel and agent, and by current status.
- costliest threads: the `TOP_THREADS` threads whose model calls in the window cost most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from storage.database import Database
from storage.tables import Approval, Message, ModelCallRecord, Thread

TOP_THREADS = 10


@dataclass(kw_only=True)
class Figures:
    """One row of a breakdown (a channel, an agent, a model or a day)."""

    turns: int = 0
    replies: int = 0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    approvals: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "replies": self.replies,
            "model_calls": self.model_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "approvals": self.approvals,
        }


@dataclass(kw_only=True)
class Stats:
    since: datetime
    until: datetime
    total: Figures = field(default_factory=Figures)
    by_channel: dict[str, Figures] = field(default_factory=dict)
    by_agent: dict[str, Figures] = field(default_factory=dict)
    by_model: dict[str, Figures] = field(default_factory=dict)
    by_day: dict[str, Figures] = field(default_factory=dict)
    by_thread: dict[str, Figures] = field(default_factory=dict)  # "channel thread_ts", top few
    routes: list[tuple[str, str, int]] = field(default_factory=list)  # route, source, turns
    approvals_by_status: dict[str, int] = field(default_factory=dict)


class StatsReport:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def since(self, start: datetime, end: datetime) -> Stats:
        stats = Stats(since=start, until=end)
        async with self._db.read() as session:
            conn = await session.connection()
            await _messages(conn, stats)
            await _routes(conn, stats)
            await _calls(conn, stats)
            await _threads(conn, stats)
            await _approvals(conn, stats)
        for breakdown in (stats.by_channel, stats.by_agent, stats.by_model):
            ordered = sorted(breakdown.items(), key=lambda kv: (-kv[1].cost_usd, kv[0]))
            breakdown.clear()
            breakdown.update(ordered)
        stats.by_day = dict(sorted(stats.by_day.items()))
        return stats


def _in(column: Any, stats: Stats) -> Any:
    return (column >= stats.since) & (column < stats.until)


def _row(breakdown: dict[str, Figures], key: Any) -> Figures:
    return breakdown.setdefault(str(key) if key is not None else "(none)", Figures())


async def _messages(conn: AsyncConnection, stats: Stats) -> None:
    channel = col(Thread.channel)
    role = col(Message.role)
    stmt = (
        select(channel, col(Message.agent), role, func.count())
        .select_from(Message)
        .join(Thread, col(Thread.id) == col(Message.thread_id))
        .where(_in(col(Message.created_at), stats))
        .group_by(channel, col(Message.agent), role)
    )
    for where, agent, kind, count in (await conn.execute(stmt)).all():
        if kind == "user":
            _row(stats.by_channel, where).turns += int(count)
            stats.total.turns += int(count)
        elif kind == "assistant":
            _row(stats.by_channel, where).replies += int(count)
            _row(stats.by_agent, agent).replies += int(count)
            stats.total.replies += int(count)


async def _routes(conn: AsyncConnection, stats: Stats) -> None:
    route = col(Message.routes)[(0, "route")].as_string()
    source = col(Message.route_source)
    stmt = (
        select(route, source, func.count())
        .where(_in(col(Message.created_at), stats), col(Message.role) == "user")
        .group_by(route, source)
    )
    rows = [(str(r or "(none)"), str(s or "(none)"), int(n)) for r, s, n in await _all(conn, stmt)]
    stats.routes = sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


async def _calls(conn: AsyncConnection, stats: Stats) -> None:
    day = func.date(col(ModelCallRecord.created_at))
    keys = [
        col(ModelCallRecord.channel),
        col(ModelCallRecord.agent),
        col(ModelCallRecord.model),
        day,
    ]
    stmt = (
        select(
            *keys,
            func.count(),
            func.sum(col(ModelCallRecord.input_tokens)),
            func.sum(col(ModelCallRecord.output_tokens)),
            func.sum(col(ModelCallRecord.cost_usd)),
        )
        .where(_in(col(ModelCallRecord.created_at), stats))
        .group_by(*keys)
    )
    for where, agent, model, when, calls, tokens_in, tokens_out, cost in await _all(conn, stmt):
        rows = (
            _row(stats.by_channel, where),
            _row(stats.by_agent, agent),
            _row(stats.by_model, model),
            _row(stats.by_day, str(when)[:10]),
            stats.total,
        )
        for figures in rows:
            figures.model_calls += int(calls)
            figures.input_tokens += int(tokens_in or 0)
            figures.output_tokens += int(tokens_out or 0)
            figures.cost_usd += float(cost or 0)


async def _threads(conn: AsyncConnection, stats: Stats) -> None:
    keys = [col(ModelCallRecord.channel), col(ModelCallRecord.thread_ts)]
    cost = func.sum(col(ModelCallRecord.cost_usd))
    stmt = (
        select(
            *keys,
            func.count(),
            func.sum(col(ModelCallRecord.input_tokens)),
            func.sum(col(ModelCallRecord.output_tokens)),
            cost,
        )
        .where(_in(col(ModelCallRecord.created_at), stats))
        .group_by(*keys)
        .order_by(desc(cost))
        .limit(TOP_THREADS)
    )
    for where, thread, calls, tokens_in, tokens_out, spent in await _all(conn, stmt):
        stats.by_thread[f"{where} {thread}"] = Figures(
            model_calls=int(calls),
            input_tokens=int(tokens_in or 0),
            output_tokens=int(tokens_out or 0),
            cost_usd=float(spent or 0),
        )


async def _approvals(conn: AsyncConnection, stats: Stats) -> None:
    keys = [col(Approval.channel), col(Approval.agent), col(Approval.status)]
    stmt = select(*keys, func.count()).where(_in(col(Approval.created_at), stats)).group_by(*keys)
    for where, agent, status, count in await _all(conn, stmt):
        _row(stats.by_channel, where).approvals += int(count)
        _row(stats.by_agent, agent).approvals += int(count)
        stats.total.approvals += int(count)
        stats.approvals_by_status[str(status)] = stats.approvals_by_status.get(
            str(status), 0
        ) + int(count)


async def _all(conn: AsyncConnection, stmt: Any) -> Iterable[Any]:
    return (await conn.execute(stmt)).all()
