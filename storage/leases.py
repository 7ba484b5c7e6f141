"""Named leases: how replicas agree, through the database alone, who does a singular job
(run the scheduler, process a thread). A lease is held until it expires or is released; the
holder renews it by acquiring again before it runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import col

from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore
from storage.tables import Lease


class Leases:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(
        self, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Take or renew the lease; False while someone else holds it."""
        now = now or utcnow()
        expires = now + ttl
        async with self._db.write() as session:
            inserted = await insert_ignore(
                session,
                Lease,
                {"name": name, "owner": owner, "expires_at": expires},
                returning=col(Lease.name),
            )
            if inserted is not None:
                return True
            stmt = (
                update(Lease)
                .where(
                    col(Lease.name) == name,
                    or_(col(Lease.owner) == owner, col(Lease.expires_at) <= now),
                )
                .values(owner=owner, expires_at=expires)
            )
            return (await session.exec(stmt)).rowcount == 1

    async def release(self, name: str, owner: str) -> None:
        stmt = delete(Lease).where(col(Lease.name) == name, col(Lease.owner) == owner)
        async with self._db.write() as session:
            await session.exec(stmt)

    async def holder(self, name: str, *, now: datetime | None = None) -> str | None:
        async with self._db.read() as session:
            lease = await session.get(Lease, name)
        if lease is None or lease.expires_at <= (now or utcnow()):
            return None
        return lease.owner
