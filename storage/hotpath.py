"""SQLite's hot path: a turn's two busiest statements in one hop each.

Through SQLAlchemy's async session every driver call is a round trip to aiosqlite's thread, about
27 event-loop wake-ups for one append. The memory window and the append of a turn's messages are
the product's hottest statements, so on SQLite they run as one plain function on a dedicated
thread with its own connection: one hop per transaction. Writes still take the database's writer
queue, so they are ordered with every other write; WAL lets the two connections share the file.
PostgreSQL keeps the ordinary path (its driver does not hop threads).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")
PAGE = 64

_WINDOW_FIRST = """
SELECT t.summary, t.summary_tokens, m.id, m.role, m.agent, m.user_id, m.text, m.tokens
FROM threads AS t LEFT OUTER JOIN messages AS m ON m.thread_id = t.id AND m.id > t.summary_upto
WHERE t.id = ? ORDER BY m.id DESC LIMIT ?"""
_WINDOW_OLDER = """
SELECT m.id, m.role, m.agent, m.user_id, m.text, m.tokens
FROM messages AS m JOIN threads AS t ON t.id = m.thread_id
WHERE t.id = ? AND m.id > t.summary_upto AND m.id < ? ORDER BY m.id DESC LIMIT ?"""
_INSERT = """
INSERT INTO messages (thread_id, role, agent, user_id, text, tokens, routes, route_confidence,
    route_source, route_reason, tool_calls, prompt_tokens, completion_tokens, cost_usd, slack_ts,
    created_at)
VALUES (:thread_id, :role, :agent, :user_id, :text, :tokens, :routes, :route_confidence,
    :route_source, :route_reason, :tool_calls, :prompt_tokens, :completion_tokens, :cost_usd,
    :slack_ts, :created_at)
RETURNING id"""
_TOUCH = "UPDATE threads SET updated_at = :updated_at WHERE id = :thread_id"
_TOUCH_AGENT = "UPDATE threads SET updated_at = :updated_at, agent = :agent WHERE id = :thread_id"


def stored_time(moment: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores, so both paths read each other's rows."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def stored_json(value: Any) -> str:
    """SQLAlchemy's JSON type stores Python None as the JSON text 'null'; do the same."""
    return json.dumps(value)


class HotPath:
    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._timeout = busy_timeout_ms / 1000
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-hot")
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
        return self._conn

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self._connection()))

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One transaction (BEGIN IMMEDIATE ... COMMIT) in one hop; the caller holds the queue."""

        def transaction(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.read(transaction)

    async def close(self) -> None:
        def close(conn: sqlite3.Connection | None) -> None:
            if conn is not None:
                conn.close()

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, lambda: close(self._conn))
        self._conn = None
        self._executor.shutdown(wait=True)


def window_rows(
    conn: sqlite3.Connection, thread_id: int, budget: int
) -> tuple[str, int, list[tuple[Any, ...]]] | None:
    """(summary, tokens used, rows newest first) or None for an unknown thread."""
    rows = conn.execute(_WINDOW_FIRST, (thread_id, PAGE)).fetchall()
    if not rows:
        return None
    summary, used = rows[0][0], int(rows[0][1])
    page = [tuple(r[2:]) for r in rows if r[2] is not None]
    picked: list[tuple[Any, ...]] = []
    while True:
        for row in page:
            if used + int(row[5]) > budget:
                return summary, used, picked
            used += int(row[5])
            picked.append(row)
        if len(page) < PAGE:
            return summary, used, picked
        page = [tuple(r) for r in conn.execute(_WINDOW_OLDER, (thread_id, picked[-1][0], PAGE))]


def insert_messages(
    conn: sqlite3.Connection, thread_id: int, rows: list[dict[str, Any]], touch: dict[str, Any]
) -> list[int]:
    ids = [int(conn.execute(_INSERT, row).fetchone()[0]) for row in rows]
    conn.execute(_TOUCH_AGENT if "agent" in touch else _TOUCH, {**touch, "thread_id": thread_id})
    return ids
