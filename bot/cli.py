"""The `switchboard` command. Entry point only: it reads settings once and wires the parts.

A user's mistake (a bad setting, an unreachable database) prints one line and exits 2; only a
bug shows a traceback.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm

import click
from sqlalchemy.exc import OperationalError

from bot import logs
from bot.errors import SwitchboardError
from bot.settings import Settings, describe, load_settings
from storage import migrate
from storage.columns import utcnow
from storage.database import Database
from storage.errors import StorageError
from storage.retention import purge_older_than

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str) -> None:
    click.echo(f"switchboard: {message}", err=True)
    raise SystemExit(2)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SwitchboardError as exc:
            fail(str(exc))
        except StorageError as exc:
            fail(f"DATABASE_URL: {exc}")
        except OperationalError as exc:
            fail(f"DATABASE_URL: cannot use the database ({exc.orig}). Check it is reachable")
        except OSError as exc:
            if "connect" not in str(exc).lower():
                raise
            fail(f"DATABASE_URL: cannot connect ({exc}). Check the host, port and credentials")
        raise AssertionError("unreachable")

    return wrapper


def run_async(coro_fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @wraps(coro_fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(coro_fn(*args, **kwargs))

    return wrapper


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="switchboard.toml to read (default: $SWITCHBOARD_CONFIG, else ./switchboard.toml).",
)
@click.version_option(package_name="switchboard")
@click.pass_context
@user_errors
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Switchboard: a Slack chat-ops bot for support teams and on-call engineers."""
    settings = load_settings(config_path)
    logs.configure(settings.env.log_level, settings.env.log_format)
    ctx.obj = settings


@cli.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the settings and print them, secrets hidden."""
    rows = describe(settings_of(ctx))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name.ljust(width)}  {value}")
    click.echo("configuration OK")


@cli.group()
def db() -> None:
    """Manage the database schema and retention."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
@user_errors
@run_async
async def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the database migrations (safe to run again)."""
    database = Database(settings_of(ctx).env.database_url)
    try:
        before = await migrate.current(database)
        await migrate.upgrade(database, revision)
        after = await migrate.current(database)
    finally:
        await database.dispose()
    click.echo(f"database at revision {after}" + ("" if before == after else f" (was {before})"))


@db.command("current")
@click.pass_context
@user_errors
@run_async
async def db_current(ctx: click.Context) -> None:
    """Print the database's schema revision and the newest one this version knows."""
    database = Database(settings_of(ctx).env.database_url)
    try:
        revision = await migrate.current(database)
    finally:
        await database.dispose()
    click.echo(f"current: {revision or 'empty database'}\nhead:    {migrate.head()}")


@db.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), help="Days (default: retention).")
@click.pass_context
@user_errors
@run_async
async def db_purge(ctx: click.Context, days: int | None) -> None:
    """Delete conversations older than the retention period (SWITCHBOARD_RETENTION_DAYS)."""
    settings = settings_of(ctx)
    database = Database(settings.env.database_url)
    try:
        cutoff = utcnow() - timedelta(days=days or settings.env.retention_days)
        purged = await purge_older_than(database, cutoff)
    finally:
        await database.dispose()
    click.echo(
        f"purged {purged.threads} threads, {purged.messages} messages, "
        f"{purged.inbox_events} inbox events, {purged.outbox_messages} outbox rows "
        f"older than {cutoff:%Y-%m-%d %H:%M} UTC"
    )


@cli.command()
@click.pass_context
@user_errors
@run_async
async def local(ctx: click.Context) -> None:
    """Start the local Slack workspace and the bot on this machine (no tokens, no network)."""
    database = Database(settings_of(ctx).env.database_url)
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()
    fail(
        "local mode will start the local Slack workspace at http://127.0.0.1:3000 and the bot "
        "against it; they are not built yet (the database is migrated and ready)"
    )


def main() -> None:
    cli(prog_name="switchboard")


if __name__ == "__main__":
    main()
