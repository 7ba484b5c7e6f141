"""`/healthz` says the process answers; `/readyz` tells the truth about the database and Slack.

The database is made unwritable for real: another connection holds SQLite's write lock, or a
PostgreSQL database is switched to read-only (reads still work there, which is why a `SELECT 1`
health check said 200 while every ack failed). Slack is made unreachable with localslack's
outage modes, and the Socket Mode connection by closing it.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.cli.serve import socket_handler
from bot.runtime import running, serve_http
from localslack import LocalSlack
from storage.database import Database
from storage.migrate import upgrade
from tests.helpers.harness import bot, settings_for
from tests.helpers.postgres import PG_ADMIN_URL


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def pages(events_url: str) -> tuple[str, str]:
    base = events_url.removesuffix("/slack/events")
    return f"{base}/healthz", f"{base}/readyz"


class WriteLock:
    """Another process's write transaction on the SQLite file, held until released."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.taken, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        self.taken.set()
        self.release.wait(30)
        connection.execute("ROLLBACK")
        connection.close()

    def __enter__(self) -> WriteLock:
        self.thread.start()
        assert self.taken.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


async def test_readyz_fails_while_sqlite_cannot_be_written(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running_bot:
        running_bot.board.readiness.timeout = 0.5
        healthz, readyz = pages(running_bot.events_url)
        assert await get(readyz) == (
            200,
            {"ok": True, "database": "ok", "slack": "ok", "turns": "ok"},
        )
        with WriteLock(sqlite_url.removeprefix("sqlite:///")):
            status, body = await get(readyz)
            assert status == 503 and body["database"].startswith("not writable")
            assert await get(healthz) == (200, {"ok": True})
        ready_again = await get(readyz)
    assert ready_again[0] == 200


@pytest.fixture
async def own_postgres() -> AsyncIterator[str]:
    """A database of this test's own, since it is made read-only."""
    name = f"switchboard_ro_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        db = Database(url)
        await upgrade(db)
        await db.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def read_only(url: str, on: bool) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        setting = "on" if on else "off"
        await admin.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {setting}'
        )
        # Sessions take the setting when they start: end the bot's, its pool opens new ones.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def test_readyz_fails_while_postgres_is_read_only(
    slack: LocalSlack, own_postgres: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, own_postgres, tmp_path)) as running_bot:
        healthz, readyz = pages(running_bot.events_url)
        assert (await get(readyz))[0] == 200
        await read_only(own_postgres, True)
        try:
            status, body = await get(readyz)
            assert status == 503 and body["database"].startswith("not writable"), body
            assert await get(healthz) == (200, {"ok": True})
        finally:
            await read_only(own_postgres, False)
        assert (await get(readyz))[0] == 200


async def test_readyz_fails_while_the_web_api_is_down(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running_bot:
        running_bot.board.readiness.slack_every = 0
        _, readyz = pages(running_bot.events_url)
        slack.break_web_api("html_500")
        status, body = await get(readyz)
        assert status == 503 and body["slack"] == "Web API unreachable: http_500"
        slack.mend_web_api()
        assert (await get(readyz))[0] == 200


async def test_readyz_in_socket_mode_follows_the_connection(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path)
    async with running(settings, upgrade_database=True, socket_mode=True) as board:
        runner, port = await serve_http(board, "127.0.0.1", 0, events=False)
        readyz = f"http://127.0.0.1:{port}/readyz"
        slack.use_socket_mode()
        handler = socket_handler(board, slack.app_token)
        await handler.connect_async()
        try:
            assert (await get(readyz))[0] == 200
        finally:
            await handler.close_async()
        status, body = await get(readyz)
        await runner.cleanup()
    assert status == 503 and body["slack"] == "Socket Mode connection is down"
