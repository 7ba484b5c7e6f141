"""Statements both SQLite and PostgreSQL run, where their SQL differs.

Unique keys do the deduplication (inbox, outbox, digest runs, leases), so "insert unless it is
already there" must be atomic: `INSERT ... ON CONFLICT DO NOTHING`, which both databases have,
but which SQLAlchemy builds per dialect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_ignore(
    session: AsyncSession, model: type[SQLModel], values: dict[str, Any], *, returning: Any
) -> Any | None:
    """Insert a row unless any unique key already holds it; return `returning` or None."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        # Same meaning as ON CONFLICT DO NOTHING, but a plain INSERT, which SQLAlchemy caches
        # compiled; its SQLite on_conflict construct is compiled anew on every call (~0.6 ms).
        stmt = insert(table).values(**values).prefix_with("OR IGNORE")
    result = await session.exec(stmt.returning(returning))
    return result.scalar_one_or_none()


def row_values(row: SQLModel) -> dict[str, Any]:
    """The column values of an unsaved row, defaults applied, for a Core insert."""
    table = type(row).__table__  # type: ignore[attr-defined]
    data = row.model_dump()
    return {c.name: data[c.name] for c in table.columns if data.get(c.name) is not None}
