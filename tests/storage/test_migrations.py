"""Migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage import migrate
from storage.database import Database
from storage.store import Store


async def test_upgrade_matches_the_declared_tables(store: Store) -> None:
    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, SQLModel.metadata))

    async with store.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await migrate.current(store.db) == migrate.head()


async def test_upgrade_is_idempotent_and_downgrade_removes_everything(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    assert await migrate.current(db) is None
    await migrate.upgrade(db)
    await migrate.upgrade(db)
    assert await migrate.current(db) == migrate.head()
    await migrate.downgrade(db, "base")
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await db.dispose()


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert (
        migrate.head() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    )
