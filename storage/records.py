"""Tickets (opened by triage) and incidents (opened by escalation)."""

from __future__ import annotations

from typing import Generic, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.tables import Incident, Ticket

OPEN_STATUSES = ("open", "investigating", "mitigated")
RowT = TypeVar("RowT", Ticket, Incident)


class _Records(Generic[RowT]):
    """What tickets and incidents share: open one, read it, move its status, list the open ones."""

    model: type[RowT]

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _add(self, row: RowT) -> RowT:
        """Insert; a row whose `idempotency_key` exists already is returned instead (a re-run)."""
        try:
            async with self._db.write() as session:
                session.add(row)
        except IntegrityError:
            if row.idempotency_key is None:
                raise
            existing = await self.by_key(row.idempotency_key)
            if existing is None:
                raise
            return existing
        return row

    async def by_key(self, idempotency_key: str) -> RowT | None:
        stmt = select(self.model).where(col(self.model.idempotency_key) == idempotency_key)
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def get(self, record_id: int) -> RowT | None:
        async with self._db.read() as session:
            return await session.get(self.model, record_id)

    async def set_status(self, record_id: int, status: str) -> bool:
        stmt = (
            update(self.model)
            .where(col(self.model.id) == record_id)
            .values(status=status, updated_at=utcnow())
        )
        async with self._db.write() as session:
            return (await session.exec(stmt)).rowcount == 1

    async def open_ones(self, *, limit: int = 200) -> list[RowT]:
        stmt = (
            select(self.model)
            .where(col(self.model.status).in_(OPEN_STATUSES))
            .order_by(col(self.model.id))
            .limit(limit)
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def for_thread(self, channel: str, thread_ts: str) -> list[RowT]:
        stmt = (
            select(self.model)
            .where(col(self.model.channel) == channel, col(self.model.thread_ts) == thread_ts)
            .order_by(col(self.model.id))
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())


class Tickets(_Records[Ticket]):
    model = Ticket

    async def open(
        self,
        *,
        channel: str,
        thread_ts: str,
        title: str,
        category: str = "general",
        priority: str = "normal",
        requester: str | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket:
        return await self._add(
            Ticket(
                channel=channel,
                thread_ts=thread_ts,
                title=title,
                category=category,
                priority=priority,
                requester=requester,
                idempotency_key=idempotency_key,
            )
        )


class Incidents(_Records[Incident]):
    model = Incident

    async def open(
        self,
        *,
        channel: str,
        thread_ts: str,
        title: str,
        severity: str = "SEV3",
        commander: str | None = None,
        idempotency_key: str | None = None,
    ) -> Incident:
        return await self._add(
            Incident(
                channel=channel,
                thread_ts=thread_ts,
                title=title,
                severity=severity,
                commander=commander,
                idempotency_key=idempotency_key,
            )
        )
