"""Route corrections: which reply came from the wrong specialist, and which one it should be.

Recording is a unique insert per reply, so two clicks (or two replicas handling one click)
record one correction, and the second learns it lost. The stored texts and routes are training
data for the router, read oldest first so a later correction of the same words wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import Correction


@dataclass(frozen=True, kw_only=True)
class NewCorrection:
    message_id: int
    team_id: str
    channel: str
    thread_ts: str
    text: str
    from_route: str
    to_route: str
    corrected_by: str


class Corrections:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, new: NewCorrection) -> Correction | None:
        """The stored correction, or None when this reply was corrected already."""
        row = Correction(**new.__dict__)
        async with self._db.write() as session:
            made = await insert_ignore(
                session, Correction, row_values(row), returning=col(Correction.id)
            )
        if made is None:
            return None
        row.id = int(made)
        return row

    async def for_message(self, message_id: int) -> Correction | None:
        stmt = select(Correction).where(col(Correction.message_id) == message_id)
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def all(self) -> list[Correction]:
        """Every correction, oldest first."""
        async with self._db.read() as session:
            return list((await session.exec(select(Correction).order_by(col(Correction.id)))).all())

    async def count(self, start: datetime, end: datetime) -> int:
        """Corrections made in `[start, end)`: the digest's "corrected turns"."""
        created = col(Correction.created_at)
        stmt = select(func.count()).select_from(Correction).where(created >= start, created < end)
        async with self._db.read() as session:
            return int((await session.exec(stmt)).one())
