"""The audit log: append-only. There is deliberately no update or delete here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.tables import AuditEntry


class Audit:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self,
        *,
        actor: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            actor=actor, action=action, subject=subject, details=details or {}, at=at or utcnow()
        )
        async with self._db.write() as session:
            session.add(entry)
        return entry

    async def history(
        self,
        subjects: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Entries in the order they were written, optionally for some subjects only."""
        stmt = select(AuditEntry)
        if subjects is not None:
            stmt = stmt.where(col(AuditEntry.subject).in_(list(subjects)))
        if since is not None:
            stmt = stmt.where(col(AuditEntry.at) >= since)
        async with self._db.read() as session:
            return list((await session.exec(stmt.order_by(col(AuditEntry.id)).limit(limit))).all())
