"""Digest runs: one row per (digest, period start), so a period is posted once however many
schedulers fire for it.

A run in progress holds a lease (`digest-run:<id>` in the leases table) that its process renews.
A run left `running` by a process that died keeps its row, so no one else would start that
period again; once its lease has lapsed, `start` hands the run to whoever asks next, and
`stale` lists such runs for the scheduler to retry. The lease lives in its own table so no
migration was needed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import DigestRun, Lease

RUNNING: Final = "running"
LEASE_PREFIX = "digest-run:"


def lease_name(run_id: int) -> str:
    return f"{LEASE_PREFIX}{run_id}"


class DigestRuns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self,
        name: str,
        *,
        period_start: datetime,
        period_end: datetime,
        channel: str,
        owner: str = "",
        lease: timedelta = timedelta(minutes=5),
        now: datetime | None = None,
    ) -> DigestRun | None:
        """The run to do now: a new one, or one left running by a dead process (its lease
        lapsed), taken over. None when the period was posted, failed, or is being run."""
        now = now or utcnow()
        row = DigestRun(
            name=name, period_start=period_start, period_end=period_end, channel=channel
        )
        async with self._db.write() as session:
            new_id = await insert_ignore(
                session, DigestRun, row_values(row), returning=col(DigestRun.id)
            )
            if new_id is not None:
                await _take(session, new_id, owner, now, lease)
                row.id = new_id
                return row
            stmt = select(DigestRun).where(
                col(DigestRun.name) == name, col(DigestRun.period_start) == period_start
            )
            existing = (await session.exec(stmt)).first()
            if existing is None or existing.id is None or existing.status != RUNNING:
                return None
            return existing if await _take(session, existing.id, owner, now, lease) else None

    async def renew(
        self, run_id: int, owner: str, lease: timedelta, *, now: datetime | None = None
    ) -> None:
        """Keep the run's lease while it works."""
        stmt = (
            update(Lease)
            .where(col(Lease.name) == lease_name(run_id), col(Lease.owner) == owner)
            .values(expires_at=(now or utcnow()) + lease)
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def stale(self, *, now: datetime | None = None) -> list[DigestRun]:
        """Runs left `running` whose lease has lapsed (their process died): to be retried."""
        now = now or utcnow()
        async with self._db.read() as session:
            running = list(
                await session.exec(select(DigestRun).where(col(DigestRun.status) == RUNNING))
            )
            if not running:
                return []
            names = [lease_name(r.id) for r in running if r.id is not None]
            live = select(Lease.name).where(col(Lease.name).in_(names), col(Lease.expires_at) > now)
            held = set((await session.exec(live)).all())
        return [r for r in running if r.id is not None and lease_name(r.id) not in held]

    async def finish(self, run_id: int, *, slack_ts: str | None) -> None:
        await self._set(run_id, status="posted", slack_ts=slack_ts)

    async def fail(self, run_id: int, error: str) -> None:
        await self._set(run_id, status="failed", error=error[:2000])

    async def _set(self, run_id: int, **values: object) -> None:
        stmt = (
            update(DigestRun)
            .where(col(DigestRun.id) == run_id)
            .values(finished_at=utcnow(), **values)
        )
        async with self._db.write() as session:
            await session.exec(stmt)
            await session.exec(delete(Lease).where(col(Lease.name) == lease_name(run_id)))

    async def runs(self, name: str | None = None, *, limit: int = 100) -> list[DigestRun]:
        stmt = select(DigestRun)
        if name is not None:
            stmt = stmt.where(col(DigestRun.name) == name)
        stmt = stmt.order_by(col(DigestRun.period_start).desc()).limit(limit)
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())


async def _take(
    session: AsyncSession, run_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take the run's lease: new, or lapsed."""
    name, expires = lease_name(run_id), now + lease
    values = {"name": name, "owner": owner, "expires_at": expires}
    if await insert_ignore(session, Lease, values, returning=col(Lease.name)) is not None:
        return True
    stmt = (
        update(Lease)
        .where(col(Lease.name) == name, col(Lease.expires_at) <= now)
        .values(owner=owner, expires_at=expires)
    )
    return bool((await session.exec(stmt)).rowcount == 1)
