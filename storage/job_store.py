"""APScheduler's job store on the product's own database.

APScheduler 3 stores jobs through a synchronous SQLAlchemy engine, while the product talks to
its database asynchronously; this is the one place a second, synchronous engine is made, so the
scheduler's jobs sit in the same database (and survive restarts and fail over with it) without
SQL or engines living outside `storage/`.
"""

from __future__ import annotations

from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine

from storage.database import BUSY_TIMEOUT_MS, Database


def _sync_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return create_engine(
            url.set(drivername="sqlite"), connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
        )
    return create_engine(
        url.set(drivername="postgresql+psycopg"), pool_size=1, max_overflow=1, pool_pre_ping=True
    )


def job_store(db: Database) -> Any:
    """A job store on `db`'s database; its `shutdown()` (the scheduler's, or the caller's when
    the scheduler never started) closes its engine."""
    return SQLAlchemyJobStore(engine=_sync_engine(db.url))
