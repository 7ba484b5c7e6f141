"""The test PostgreSQL: where it is, creating, migrating, emptying and dropping databases."""

from __future__ import annotations

import os

import asyncpg
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.database import Database
from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def create_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def empty(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
