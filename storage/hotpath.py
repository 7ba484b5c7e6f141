"""SQLite's hot path: a turn's two busiest statements in one hop each.

Through SQLAlchemy's async session every driver call is a round trip to aiosqlite's thread, about
27 event-loop wake-ups for one append. The memory window and the append of a turn's messages are
the product's hottest statements, so on SQLite they run as one plain function on a dedicated
thread with its own connection: one hop per transaction. That thread runs one call at a time,
so its writes never overlap each other; they wait only for a write through the ORM to finish
(`storage.writers`). WAL lets the two connections share the file.
PostgreSQL keeps the ordinary path (its driver does not hop threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
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
    """One thread and one connection; urgent calls (an event Slack waits to hear we have) are taken
    before everything queued, instead of waiting behind a burst of turns' reads and writes."""

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._timeout = busy_timeout_ms / 1000
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._serving = False  # a thread is running `_serve`
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
        return self._conn

    async def read(self, work: Callable[[sqlite3.Connection], T], *, urgent: bool = False) -> T:
        return await self._run(lambda: work(self._connection()), URGENT if urgent else ORDINARY)

    async def write(self, work: Callable[[sqlite3.Connection], T], *, urgent: bool = False) -> T:
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

        return await self.read(transaction, urgent=urgent)

    async def close(self) -> None:
        """Close the connection after everything queued, and let the thread end.

        A call that comes after this still runs: it starts a thread (and a connection) again,
        instead of waiting on a thread that has gone."""
        with self._lock:
            if not self._serving:
                return
        done, thread = self._submit(self._close_connection, LAST)
        await done
        await asyncio.to_thread(thread.join)  # the thread that took the close, not a later one

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, call: Callable[[], T], priority: int) -> T:
        done, _ = self._submit(call, priority)
        return await done

    def _submit(
        self, call: Callable[[], T], priority: int
    ) -> tuple[asyncio.Future[T], threading.Thread]:
        """Queue the call; the thread that will run it, started if none is serving."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        job = _Job(priority=priority, order=next(self._order), call=call, loop=loop, done=done)
        with self._lock:  # so a thread cannot end between this put and its last look
            self._jobs.put(job)
            if self._thread is None or not self._serving:
                self._serving = True
                self._thread = threading.Thread(target=self._serve, name="sqlite-hot", daemon=True)
                self._thread.start()
            return done, self._thread

    def _serve(self) -> None:
        closing = False
        while True:
            if closing:
                with self._lock:
                    if self._jobs.empty():
                        self._close_connection()  # reopened by a call that came after close
                        self._serving = False
                        return
            job = self._jobs.get()
            try:
                result = job.call()
            except BaseException as error:  # handed to the caller, raised there
                job.settle(None, error)
            else:
                job.settle(result, None)
            closing = closing or job.priority == LAST


URGENT, ORDINARY, LAST = 0, 1, 2


@dataclass(order=True, frozen=True, kw_only=True)
class _Job:
    priority: int
    order: int
    call: Callable[[], Any] = field(compare=False)
    loop: asyncio.AbstractEventLoop = field(compare=False)
    done: asyncio.Future[Any] = field(compare=False)

    def settle(self, result: Any, error: BaseException | None) -> None:
        """Hand the outcome to the caller's loop; a caller that gave up, or a closed loop, is
        told nothing (the call itself has happened either way)."""

        def hand_over() -> None:
            if self.done.done():
                return
            if error is not None:
                self.done.set_exception(error)
            else:
                self.done.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed
            self.loop.call_soon_threadsafe(hand_over)


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


_THREAD_OF = "SELECT id, agent FROM threads WHERE team_id = ? AND channel = ? AND thread_ts = ?"
_NEW_THREAD = """
INSERT OR IGNORE INTO threads (team_id, channel, thread_ts, summary, summary_tokens, summary_upto,
    created_at, updated_at)
VALUES (?, ?, ?, '', 0, 0, ?, ?)"""
_ASKED = "SELECT id FROM messages WHERE thread_id = ? AND role = 'user' AND slack_ts = ? LIMIT 1"
_ANSWERED = """
SELECT id FROM messages WHERE thread_id = ? AND id > ? AND role = 'assistant' ORDER BY id LIMIT 1"""
_AUDIT = "INSERT INTO audit_log (actor, action, subject, at, details) VALUES (?, ?, ?, ?, ?)"

ThreadKey = tuple[str, str, str]  # team_id, channel, thread_ts


def opened_rows(
    conn: sqlite3.Connection, key: ThreadKey, budget: int
) -> tuple[int, str | None, tuple[str, int, list[tuple[Any, ...]]] | None] | None:
    """A turn's one read: (thread id, its agent, its window rows), or None for a new thread."""
    found = conn.execute(_THREAD_OF, key).fetchone()
    if found is None:
        return None
    return int(found[0]), found[1], window_rows(conn, int(found[0]), budget)


def recorded_turn(
    conn: sqlite3.Connection,
    key: ThreadKey,
    asked_ts: str | None,
    rows: list[dict[str, Any]],
    touch: dict[str, Any],
    audit: list[tuple[Any, ...]],
) -> tuple[int, list[int], int | None]:
    """A turn's one write (see `storage.turns`): (thread id, new message ids, earlier answer).

    When an earlier run of the turn already stored its question and answer, nothing is written
    and the earlier answer's id comes back instead.
    """
    now = touch["updated_at"]
    conn.execute(_NEW_THREAD, (*key, now, now))
    thread_id = int(conn.execute(_THREAD_OF, key).fetchone()[0])
    if asked_ts:
        asked = conn.execute(_ASKED, (thread_id, asked_ts)).fetchone()
        if asked is not None:
            answered = conn.execute(_ANSWERED, (thread_id, asked[0])).fetchone()
            if answered is not None:
                return thread_id, [], int(answered[0])
            rows = rows[1:]  # a question stored alone (before turns were written as one)
    ids = insert_messages(conn, thread_id, [{**r, "thread_id": thread_id} for r in rows], touch)
    conn.executemany(_AUDIT, audit)
    return thread_id, ids, None
