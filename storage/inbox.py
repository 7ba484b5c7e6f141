"""The inbox: every inbound Slack event, written down before Slack is told we have it.

Slack retries an event it thinks we missed (same `event_id`), and a mention in a channel arrives
twice, as `app_mention` and as `message` (different event ids, same channel and ts). Both unique
keys live here, so a duplicate is refused by the database, which also covers several replicas.
A row is claimed with a lease before work starts; a row whose lease ran out (its process died)
is picked up again by recovery.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from storage import hot_queue
from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import InboxEvent, InboxStatus
from storage.trace_context import TraceContext, no_trace_context

RECEIVED: Final = "received"
PROCESSING: Final = "processing"
DONE: Final = "done"
FAILED: Final = "failed"


class Inbox:
    def __init__(self, db: Database, trace_context: TraceContext = no_trace_context) -> None:
        self._db = db
        self._trace_context = trace_context

    async def record(
        self,
        *,
        event_id: str,
        kind: str,
        payload: dict[str, Any],
        team_id: str = "",
        channel: str | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> int | None:
        """Write the event down; the new row's id, or None when it is a duplicate."""
        row = InboxEvent(
            event_id=event_id,
            kind=kind,
            payload=payload,
            team_id=team_id,
            channel=channel,
            message_ts=message_ts,
            thread_ts=thread_ts,
            trace_context=self._trace_context(),
        )
        if self._db.hot is not None:
            values = row_values(row)
            return await self._db.hot_write(
                lambda conn: hot_queue.insert_ignore(conn, "inbox_events", values), urgent=True
            )
        async with self._db.write(urgent=True) as session:  # Slack is waiting for the ack
            new_id: int | None = await insert_ignore(
                session, InboxEvent, row_values(row), returning=col(InboxEvent.id)
            )
        return new_id

    async def claim(
        self, row_id: int, owner: str, lease: timedelta, *, now: datetime | None = None
    ) -> InboxEvent | None:
        """Take the row for processing, unless it is finished or someone holds a live lease."""
        now = now or utcnow()
        if self._db.hot is not None:
            until = now + lease
            raw = await self._db.hot_write(
                lambda conn: hot_queue.claim_inbox(conn, row_id, owner, until, now)
            )
            return None if raw is None else hot_queue.decoded(InboxEvent, raw)
        stmt = (
            update(InboxEvent)
            .where(col(InboxEvent.id) == row_id, _claimable(now))
            .values(
                status=PROCESSING,
                attempts=col(InboxEvent.attempts) + 1,
                locked_by=owner,
                locked_until=now + lease,
                updated_at=now,
            )
        )
        # One statement, the claimed row returned by it: a claim is made for every event and
        # every reply, and a second statement costs another round of driver hops.
        async with self._db.write() as session:
            result = await session.exec(
                stmt.returning(InboxEvent), execution_options={"synchronize_session": False}
            )
            return result.scalars().one_or_none()

    async def renew(self, row_id: int, owner: str, lease: timedelta) -> bool:
        """Extend a lease we hold, so a long turn is not taken over by recovery."""
        stmt = (
            update(InboxEvent)
            .where(
                col(InboxEvent.id) == row_id,
                col(InboxEvent.locked_by) == owner,
                col(InboxEvent.status) == PROCESSING,
            )
            .values(locked_until=utcnow() + lease)
        )
        async with self._db.write() as session:
            return (await session.exec(stmt)).rowcount == 1

    async def complete(self, row_id: int) -> None:
        await self._finish(row_id, DONE, None)

    async def fail(self, row_id: int, error: str) -> None:
        await self._finish(row_id, FAILED, error[:2000])

    async def _finish(self, row_id: int, status: InboxStatus, error: str | None) -> None:
        if self._db.hot is not None:
            now = utcnow()
            await self._db.hot_write(
                lambda conn: hot_queue.finish_inbox(conn, row_id, status, error, now)
            )
            return
        stmt = (
            update(InboxEvent)
            .where(col(InboxEvent.id) == row_id)
            .values(
                status=status, error=error, locked_by=None, locked_until=None, updated_at=utcnow()
            )
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def recoverable(
        self, *, now: datetime | None = None, limit: int = 500
    ) -> list[InboxEvent]:
        """Rows a crash left behind: never started, or started under a lease that ran out."""
        stmt = (
            select(InboxEvent)
            .where(_claimable(now or utcnow()))
            .order_by(col(InboxEvent.id))
            .limit(limit)
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def get(self, row_id: int) -> InboxEvent | None:
        async with self._db.read() as session:
            return await session.get(InboxEvent, row_id)

    async def by_event_id(self, event_id: str) -> InboxEvent | None:
        stmt = select(InboxEvent).where(col(InboxEvent.event_id) == event_id)
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()


def _claimable(now: datetime) -> Any:
    return or_(
        col(InboxEvent.status) == RECEIVED,
        and_(col(InboxEvent.status) == PROCESSING, col(InboxEvent.locked_until) < now),
    )
