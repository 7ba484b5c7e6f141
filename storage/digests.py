"""Digest runs: one row per (digest, period start), so a period is posted once however many
schedulers fire for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import DigestRun


class DigestRuns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self, name: str, *, period_start: datetime, period_end: datetime, channel: str
    ) -> DigestRun | None:
        """The new run, or None when this period of this digest was already started."""
        row = DigestRun(
            name=name, period_start=period_start, period_end=period_end, channel=channel
        )
        async with self._db.write() as session:
            new_id = await insert_ignore(
                session, DigestRun, row_values(row), returning=col(DigestRun.id)
            )
        if new_id is None:
            return None
        row.id = new_id
        return row

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

    async def runs(self, name: str | None = None, *, limit: int = 100) -> list[DigestRun]:
        stmt = select(DigestRun)
        if name is not None:
            stmt = stmt.where(col(DigestRun.name) == name)
        stmt = stmt.order_by(col(DigestRun.period_start).desc()).limit(limit)
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())
