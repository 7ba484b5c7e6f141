"""What model calls cost: one row per answered call, and the sums that money budgets check.

The supervisor stores a turn's calls when the turn ends (`record`). Budgets are checked against
`spent` before a turn starts, from these rows, so every replica sees the same totals. A day is
a UTC day: `day_start` is given by the caller, so the database only compares timestamps, the
same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select
from sqlmodel import col

from storage.columns import utcnow
from storage.database import Database
from storage.tables import ModelCallRecord


@dataclass(frozen=True, kw_only=True)
class NewModelCall:
    agent: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    response_model: str = ""


@dataclass(frozen=True, kw_only=True)
class TurnCalls:
    """A turn's model calls and where they were made."""

    turn: str
    team_id: str
    channel: str
    thread_ts: str
    calls: Sequence[NewModelCall]


@dataclass(frozen=True)
class SpentSums:
    channel_today: float
    thread: float
    total_today: float


@dataclass(frozen=True, kw_only=True)
class Spender:
    """A channel or thread and what it spent, for budget use."""

    channel: str
    thread_ts: str | None
    calls: int
    cost_usd: float


class Costs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, turn: TurnCalls, *, at: datetime | None = None) -> None:
        if not turn.calls:
            return
        when = at or utcnow()
        async with self._db.write() as session:
            for call in turn.calls:
                session.add(
                    ModelCallRecord(
                        turn=turn.turn[:200],
                        team_id=turn.team_id,
                        channel=turn.channel,
                        thread_ts=turn.thread_ts,
                        agent=call.agent[:32],
                        model=call.model[:200],
                        response_model=call.response_model[:200] or None,
                        input_tokens=call.input_tokens,
                        output_tokens=call.output_tokens,
                        cost_usd=call.cost_usd,
                        created_at=when,
                    )
                )

    async def spent(self, channel: str, thread_ts: str, day_start: datetime) -> SpentSums:
        """The channel's and everyone's spend since `day_start`, and the thread's ever."""
        cost = func.coalesce(func.sum(col(ModelCallRecord.cost_usd)), 0.0)
        since = col(ModelCallRecord.created_at) >= day_start
        in_channel = col(ModelCallRecord.channel) == channel
        in_thread = in_channel & (col(ModelCallRecord.thread_ts) == thread_ts)
        async with self._db.read() as session:
            conn = await session.connection()
            channel_today = (await conn.execute(select(cost).where(in_channel, since))).scalar()
            thread = (await conn.execute(select(cost).where(in_thread))).scalar()
            total = (await conn.execute(select(cost).where(since))).scalar()
        return SpentSums(float(channel_today or 0), float(thread or 0), float(total or 0))

    async def since(self, start: datetime) -> tuple[int, float]:
        """Model calls since `start`, and what they cost."""
        stmt = select(func.count(), func.sum(col(ModelCallRecord.cost_usd))).where(
            col(ModelCallRecord.created_at) >= start
        )
        async with self._db.read() as session:
            calls, cost = (await (await session.connection()).execute(stmt)).one()
        return int(calls or 0), float(cost or 0)

    async def top_channels(self, start: datetime, *, limit: int = 10) -> list[Spender]:
        """The channels that spent most since `start`."""
        return await self._top([col(ModelCallRecord.channel)], start, limit)

    async def top_threads(self, *, limit: int = 10) -> list[Spender]:
        """The threads that spent most, ever (the per-thread budget has no day)."""
        return await self._top(
            [col(ModelCallRecord.channel), col(ModelCallRecord.thread_ts)], None, limit
        )

    async def _top(self, keys: list[Any], start: datetime | None, limit: int) -> list[Spender]:
        cost = func.sum(col(ModelCallRecord.cost_usd))
        stmt = select(*keys, func.count(), cost).group_by(*keys).order_by(desc(cost)).limit(limit)
        if start is not None:
            stmt = stmt.where(col(ModelCallRecord.created_at) >= start)
        async with self._db.read() as session:
            rows = (await (await session.connection()).execute(stmt)).all()
        return [
            Spender(
                channel=str(row[0]),
                thread_ts=str(row[1]) if len(keys) > 1 else None,
                calls=int(row[-2]),
                cost_usd=float(row[-1] or 0),
            )
            for row in rows
        ]
