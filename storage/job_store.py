"""APScheduler's job store on the product's own database.

APScheduler 3 stores jobs through a synchronous SQLAlchemy engine, while the product talks to
its database asynchronously; this is the one place a second, synchronous engine is made, so the
scheduler's jobs sit in the same database (and survive restarts and fail over with it) without
SQL or engines living outside `storage/`.
"""

from __future__ import annotations

from collections.abc import Callable
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


def job_store(db: Database) -> tuple[Any, Callable[[], None]]:
    """A job store on `db`'s database, and what closes its engine once the scheduler stops."""
    engine = _sync_engine(db.url)
    return SQLAlchemyJobStore(engine=engine), engine.dispose
