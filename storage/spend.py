"""Totals of money moved without a human, so approval limits hold across calls, turns and threads.

A limit checked per call is beaten by splitting: 25 credits of $99 under a $100 limit. So every
call that may move money without an approval first reserves its amount in each scope it counts
against (the turn, the customer account, the requester), and the reservation succeeds only if
every scope stays within the limit over the window. Check and insert are one transaction: on
SQLite the writer queue and `BEGIN IMMEDIATE` serialise them; on PostgreSQL a transaction-level
advisory lock per scope does, so two replicas cannot both spend the last of a limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.database import Database
from storage.tables import Spend


@dataclass(frozen=True)
class Reservation:
    """`units` (hundredths of a major unit) counted against each of `scopes`, under `key`."""

    key: str
    scopes: tuple[str, ...]
    units: int


class Spending:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(
        self, reservations: Sequence[Reservation], *, limit: int, since: datetime
    ) -> bool:
        """All or nothing: True when every scope stays within `limit` and the rows are written.

        A key already reserved (a turn re-run after a crash) is not counted twice: its rows are
        left out of the sums and written again as no-ops.
        """
        wanted: dict[str, int] = {}
        for r in reservations:
            for scope in r.scopes:
                wanted[scope] = wanted.get(scope, 0) + r.units
        keys = sorted({r.key for r in reservations})
        async with self._db.write() as session:
            if not self._db.is_sqlite:
                for scope in sorted(wanted):  # a fixed order, so two replicas cannot deadlock
                    await session.exec(
                        text(
                            "SELECT pg_advisory_xact_lock(hashtextextended(:scope, 0))"
                        ).bindparams(scope=scope)  # type: ignore[call-overload]
                    )
            spent = await self._sums(session, list(wanted), since, keys)
            if any(spent.get(scope, 0) + units > limit for scope, units in wanted.items()):
                return False
            existing = {
                (row.key, row.scope)
                for row in (await session.exec(select(Spend).where(col(Spend.key).in_(keys)))).all()
            }
            for r in reservations:
                for scope in r.scopes:
                    if (r.key, scope) not in existing:
                        session.add(Spend(key=r.key, scope=scope, units=r.units))
                        existing.add((r.key, scope))
        return True

    async def release(self, key: str) -> None:
        """Forget a reservation whose call did not move money (the tool failed)."""
        async with self._db.write() as session:
            await session.exec(delete(Spend).where(col(Spend.key) == key))

    async def total(self, scope: str, since: datetime) -> int:
        async with self._db.read() as session:
            return (await self._sums(session, [scope], since, [])).get(scope, 0)

    @staticmethod
    async def _sums(
        session: AsyncSession, scopes: list[str], since: datetime, except_keys: list[str]
    ) -> dict[str, int]:
        stmt = (
            select(col(Spend.scope), func.sum(col(Spend.units)))
            .where(col(Spend.scope).in_(scopes), col(Spend.created_at) >= since)
            .group_by(col(Spend.scope))
        )
        if except_keys:
            stmt = stmt.where(col(Spend.key).not_in(except_keys))
        result = await session.exec(stmt)
        return {str(scope): int(units or 0) for scope, units in result.all()}
