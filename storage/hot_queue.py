"""The inbox's and outbox's per-event statements on SQLite's one-hop path (see storage.hotpath).

Every answered event records its inbox row, claims it and completes it, and every reply is
queued, claimed and marked posted: six write transactions per event, each a dozen driver hops
through SQLAlchemy's async session. On SQLite they run here as plain statements on the hot
path's own connection, in the database's writer queue like every other write; the rows they
return are decoded into the same table models the ORM path returns. PostgreSQL keeps the ORM
path.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON
from sqlmodel import SQLModel

from storage.columns import UTCDateTime
from storage.hotpath import stored_time

M = TypeVar("M", bound=SQLModel)

_INBOX_CLAIM = """
UPDATE inbox_events SET status = 'processing', attempts = attempts + 1, locked_by = :owner,
    locked_until = :until, updated_at = :now
WHERE id = :id AND (status = 'received' OR (status = 'processing' AND locked_until < :now))
RETURNING *"""
_INBOX_FINISH = """
UPDATE inbox_events SET status = :status, error = :error, locked_by = NULL, locked_until = NULL,
    updated_at = :now
WHERE id = :id"""
_SENDABLE = """(
    (status = 'pending' AND (locked_until IS NULL OR locked_until < :now))
    OR (status = 'sending' AND locked_until < :now))"""
_OUTBOX_CLAIM = f"""
UPDATE outbox SET status = 'sending', attempts = attempts + 1, locked_by = :owner,
    locked_until = :until
WHERE id = :id AND {_SENDABLE}
RETURNING *"""  # noqa: S608 (constant text)
_OUTBOX_CHANNELS = f"SELECT DISTINCT channel FROM outbox WHERE {_SENDABLE}"  # noqa: S608
_OUTBOX_BY_KEY = "SELECT * FROM outbox WHERE dedupe_key = ? LIMIT 1"
_OUTBOX_POSTED = """
UPDATE outbox SET status = 'posted', slack_ts = :slack_ts, posted_at = :now, error = NULL,
    locked_by = NULL, locked_until = NULL
WHERE id = :id"""


def stored(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite types store it (times as text, JSON as text)."""
    if isinstance(value, datetime):
        return stored_time(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def insert_ignore(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> int | None:
    """`storage.sql.insert_ignore` in plain SQL: the new row's id, or None for a duplicate."""
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    sql = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks}) RETURNING id"  # noqa: S608
    found = conn.execute(sql, {k: stored(v) for k, v in values.items()}).fetchone()
    return None if found is None else int(found[0])


def claim_inbox(
    conn: sqlite3.Connection, row_id: int, owner: str, until: datetime, now: datetime
) -> dict[str, Any] | None:
    params = {"id": row_id, "owner": owner, "until": stored_time(until), "now": stored_time(now)}
    return _one(conn.execute(_INBOX_CLAIM, params))


def finish_inbox(
    conn: sqlite3.Connection, row_id: int, status: str, error: str | None, now: datetime
) -> None:
    params = {"id": row_id, "status": status, "error": error, "now": stored_time(now)}
    conn.execute(_INBOX_FINISH, params)


def claim_outbox(
    conn: sqlite3.Connection, row_id: int, owner: str, until: datetime, now: datetime
) -> dict[str, Any] | None:
    params = {"id": row_id, "owner": owner, "until": stored_time(until), "now": stored_time(now)}
    return _one(conn.execute(_OUTBOX_CLAIM, params))


def outbox_posted(
    conn: sqlite3.Connection, row_id: int, slack_ts: str | None, now: datetime
) -> None:
    conn.execute(_OUTBOX_POSTED, {"id": row_id, "slack_ts": slack_ts, "now": stored_time(now)})


def outbox_rows(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[int | None]:
    """Queue several outbox rows in one transaction; None for each dedupe key taken already."""
    return [insert_ignore(conn, "outbox", row) for row in rows]


def outbox_channels(conn: sqlite3.Connection, now: datetime) -> set[str]:
    return {str(r[0]) for r in conn.execute(_OUTBOX_CHANNELS, {"now": stored_time(now)})}


def outbox_by_key(conn: sqlite3.Connection, dedupe_key: str) -> dict[str, Any] | None:
    return _one(conn.execute(_OUTBOX_BY_KEY, (dedupe_key,)))


def _one(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    row = cursor.fetchone()
    if row is None:
        return None
    return {d[0]: value for d, value in zip(cursor.description, row, strict=True)}


def decoded(model: type[M], raw: dict[str, Any]) -> M:
    """The table model the ORM would have returned for this row: aware times, parsed JSON."""
    values: dict[str, Any] = {}
    for column in model.__table__.columns:  # type: ignore[attr-defined]
        value = raw[column.name]
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif value is not None and isinstance(column.type, JSON):
            value = json.loads(value)
        values[column.name] = value
    return model(**values)
