"""From the second revision on: a database holding rows at the previous revision is upgraded,
and every row is still there, unchanged, on SQLite and on PostgreSQL.

Rows are made from the reflected schema (a few per table, foreign keys pointing at rows that
exist), so a table a later revision adds is covered without touching this test.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, Table, select, types
from sqlalchemy.engine import Connection

from storage import migrate
from storage.database import Database
from tests.helpers.postgres import PG_ADMIN_URL

ROWS = 3
STEPS = [
    (script.down_revision, script.revision)
    for script in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()
    if isinstance(script.down_revision, str)
]


def _value(column: Column[Any], n: int) -> Any:
    if column.foreign_keys:
        return _value(next(iter(column.foreign_keys)).column, n)
    kind = column.type
    if isinstance(kind, types.Integer):
        return n
    if isinstance(kind, types.Float):
        return n + 0.5
    if isinstance(kind, types.DateTime):
        return datetime(2026, 1, n, 12, 30, n)
    if isinstance(kind, types.JSON):
        return {"n": n, "tags": ["a", "b"]}
    if isinstance(kind, types.LargeBinary):
        return bytes([n, 0, 255])
    length = getattr(kind, "length", None) or 64
    return f"{column.name}-{n}"[:length]


def _tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def _fill(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    written = {}
    for table in _tables(conn):
        rows = [{c.name: _value(c, n) for c in table.columns} for n in range(1, ROWS + 1)]
        conn.execute(table.insert(), rows)
        written[table.name] = rows
    return written


def _read(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        table.name: [
            dict(row._mapping)
            for row in conn.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in _tables(conn)
    }


@pytest.fixture
async def fresh_postgres(postgres_url: str) -> AsyncIterator[str]:
    """An empty PostgreSQL database of its own (the shared one is at head already)."""
    name = f"switchboard_rows_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{postgres_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _upgrade_keeps_rows(url: str) -> None:
    assert STEPS, "no revision after the first"
    for previous, revision in sorted(STEPS):
        db = Database(url)
        try:
            await migrate.upgrade(db, previous)
            async with db.engine.begin() as conn:
                written = await conn.run_sync(_fill)
            await migrate.upgrade(db, revision)
            async with db.engine.connect() as conn:
                found = await conn.run_sync(_read)
            assert await migrate.current(db) == revision
            assert {"threads", "messages", "approvals", "outbox"} <= written.keys()
            for table, rows in written.items():
                # Columns a revision adds are new; every value written before is unchanged.
                kept = [{k: row[k] for k in rows[0]} for row in found[table]]
                assert kept == rows, table
            async with db.engine.begin() as conn:
                for emptied in reversed(await conn.run_sync(_tables)):
                    await conn.execute(emptied.delete())
        finally:
            await db.dispose()


async def test_upgrade_keeps_every_row_on_sqlite(tmp_path: Path) -> None:
    await _upgrade_keeps_rows(f"sqlite:///{tmp_path / 'rows.db'}")


async def test_upgrade_keeps_every_row_on_postgres(fresh_postgres: str) -> None:
    await _upgrade_keeps_rows(fresh_postgres)
