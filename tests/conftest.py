"""Shared fixtures: real databases, never mocks.

SQLite tests get a fresh file per test. PostgreSQL tests share one database per run, created here
with a unique name, migrated once, emptied before each test and dropped at the end. Where no
PostgreSQL answers, its tests skip with the reason, except in CI (CI=true), where they must run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from storage.database import Database
from storage.migrate import upgrade
from storage.store import Store
from tests.helpers import postgres

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

pytest_plugins = ("tests.helpers.browser",)  # the `browser` fixture (Debian's Chromium)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this run; dropped afterwards."""
    name = f"switchboard_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(postgres.create_database(name))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {postgres.PG_ADMIN_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    base = postgres.PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    asyncio.run(postgres.migrate(url))
    yield url
    asyncio.run(postgres.drop_database(name))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'switchboard.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'switchboard.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated, empty store on SQLite and on PostgreSQL."""
    db = Database(database_url)
    if db.is_sqlite:
        await upgrade(db)
    else:
        await postgres.empty(db)
    store = Store.over(db)
    yield store
    await store.close()


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh SQLite file, for tests that need one database only."""
    db = Database(sqlite_url)
    await upgrade(db)
    store = Store.over(db)
    yield store
    await store.close()
