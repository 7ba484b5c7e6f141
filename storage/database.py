"""The database handle: one async engine, and sessions for reading and for writing.

SQLite is the default for one team on one machine; PostgreSQL is for several replicas. The same
repositories run on both. On SQLite three things make concurrent writers safe: WAL (readers do not
block the writer), a busy timeout (a second process waits instead of failing), and write
transactions that start with `BEGIN IMMEDIATE`. Without the last, a transaction that reads and
then writes can fail at once with "database is locked" when another connection wrote in between;
the busy timeout does not cover that case. Inside one process, writers also queue in the event
loop (`storage.writers`) rather than in SQLite's sleep-and-retry handler.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import DatabaseUnavailable
from storage.hotpath import HotPath
from storage.urls import normalize_url
from storage.writers import WriterQueue

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT = 10.0  # seconds; asyncpg's own default (60 s) looks like a hang
_BEGIN_OPTION = "switchboard_sqlite_begin"


class Database:
    """Owns the engine. Created once at the edge and passed to every repository."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **self._engine_args())
        self._writers = WriterQueue() if self.is_sqlite else None
        file = self.url.database if self.is_sqlite else None
        self.hot = HotPath(file, BUSY_TIMEOUT_MS) if file and file != ":memory:" else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    def _engine_args(self) -> dict[str, Any]:
        if self.is_sqlite:
            return {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
        return {
            "pool_pre_ping": True,
            "pool_size": 10,
            "max_overflow": 10,
            "connect_args": {"timeout": CONNECT_TIMEOUT},
        }

    async def check(self) -> None:
        """Connect once, or raise `DatabaseUnavailable` saying in one line what is wrong."""
        file = self.url.database if self.is_sqlite else None
        folder = Path(file).parent if file and file != ":memory:" else None
        # Asked first: aiosqlite's worker thread, failing to open the file, can outlive the
        # event loop and print a traceback after our one line.
        if folder is not None and not folder.is_dir():
            raise DatabaseUnavailable(
                f"cannot open {self.url.database}: the folder {folder} does not exist. "
                "Create it or fix the path in DATABASE_URL"
            )
        try:
            async with self.engine.connect():
                pass
        except Exception as error:
            await self.engine.dispose()
            raise DatabaseUnavailable(_unreachable(self.url, error)) from None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; it never takes the write lock.

        On SQLite it runs without an explicit transaction (each statement sees the latest
        commit), which saves two round trips to the driver's thread per read; every read here
        is a single statement, so nothing relies on a snapshot spanning statements.
        """
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            if self.is_sqlite:
                await session.connection(execution_options={_BEGIN_OPTION: None})
            yield session

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        `urgent` writes (recording an event before Slack's 3-second ack) go ahead of the queue.
        """
        async with (
            self._writer_turn(urgent),
            AsyncSession(self.engine, expire_on_commit=False) as session,
        ):
            # Procuring the connection begins the transaction, with IMMEDIATE on SQLite.
            await session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    @asynccontextmanager
    async def _writer_turn(self, urgent: bool, *, shared: bool = False) -> AsyncIterator[None]:
        if self._writers is None:
            yield
            return
        await self._writers.acquire(urgent, shared=shared)
        try:
            yield
        finally:
            self._writers.release(shared=shared)

    async def hot_write(
        self, work: Callable[[sqlite3.Connection], T], *, urgent: bool = False
    ) -> T:
        """A one-hop SQLite transaction (see storage.hotpath); never during an ORM write."""
        assert self.hot is not None
        async with self._writer_turn(urgent, shared=True):
            return await self.hot.write(work, urgent=urgent)

    async def dispose(self) -> None:
        if self.hot is not None:
            await self.hot.close()
        await self.engine.dispose()


async def connected(url: str) -> Database:
    """A database that answered: the way every command opens one, so a wrong host, port,
    database name or login is one clear line instead of a driver's traceback."""
    db = Database(url)
    await db.check()
    return db


def _unreachable(url: URL, error: BaseException) -> str:
    """What went wrong connecting, and what to change, for the person who set DATABASE_URL."""
    import asyncpg  # only here: a bot on SQLite need not hold PostgreSQL's driver (2.5 MB)

    cause = _root(error)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        return (
            f'database "{url.database}" does not exist on {where}. Create it '
            f"(createdb {url.database}) or fix the database name at the end of DATABASE_URL"
        )
    if isinstance(
        cause, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return (
            f"PostgreSQL on {where} refused the login ({cause}). "
            "Check the user and password in DATABASE_URL"
        )
    if isinstance(cause, asyncpg.PostgresError):
        return f"PostgreSQL on {where} refused the connection ({cause}). Check DATABASE_URL"
    if isinstance(cause, socket.gaierror):
        return (
            f'cannot find the host "{url.host}" ({cause.strerror}). Check the host in DATABASE_URL'
        )
    if isinstance(cause, TimeoutError):
        return f"no answer from {where} within {CONNECT_TIMEOUT:g} s. Check the host and port"
    if isinstance(cause, OSError):
        return f"cannot connect to {where} ({cause}). Check the host, port and credentials"
    if isinstance(cause, sqlite3.Error):
        return f"cannot open {url.database} ({cause}). Check the path exists and is writable"
    return f"cannot connect ({type(cause).__name__}: {cause}). Check DATABASE_URL"


def _root(error: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrappers."""
    seen = error
    while True:
        if isinstance(seen, exc.DBAPIError) and seen.orig is not None:
            seen = seen.orig
        inner = getattr(seen, "__cause__", None)
        if inner is None or inner is seen:
            return seen
        seen = inner


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Pragmas on every new connection, and explicit BEGIN so writes can ask for IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Memory reads instead of read() calls, and a larger page cache: thread windows are
        # random reads across a large file.
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode is not None:  # None: reads in autocommit, no BEGIN at all
            conn.exec_driver_sql(f"BEGIN {mode}")
