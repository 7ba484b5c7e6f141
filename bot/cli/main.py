"""The `switchboard` command. Entry point only: it reads settings once and wires the parts.

A user's mistake (a bad setting, an unreachable database) prints one line and exits 2; only a
bug shows a traceback.
"""

from __future__ import annotations

import importlib
import os
from datetime import timedelta
from typing import ClassVar

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm

import click

from bot import logs
from bot.cli.support import run_async, settings_of, user_errors
from bot.settings import describe, load_settings


class LazyGroup(click.Group):
    """Commands that pull in the agents or Slack load only when run, so every start stays fast
    (litellm alone takes seconds to import)."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "run": ("bot.cli.serve:run", "Connect to Slack (Socket Mode or HTTP)."),
        "local": ("bot.cli.serve:local", "Run a local Slack workspace and the bot against it."),
        "route": ("bot.cli.router:route", "Print the route decision for a message."),
        "chat": ("bot.cli.router:chat", "Talk to the supervisor in this terminal."),
        "eval": ("bot.cli.router:evaluate", "Measure the router on labelled data."),
        "router": ("bot.cli.router:router_group", "Retrain the router with the corrections."),
        "audit": ("bot.cli.audit:audit", "Print the history of an approval or a thread."),
        "digest": ("bot.cli.digest:digest", "Send a digest now, or preview it with --dry-run."),
        "manifest": ("bot.slack.manifest:manifest_command", "Print the Slack app manifest."),
        "stats": ("bot.cli.stats:stats", "Turns, model calls, cost and budget use, by channel."),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.LAZY[name][1]) for name in self.LAZY]
        for name in super().list_commands(ctx):
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(60)))
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from storage import migrate
    from storage.database import connected  # alembic: only for the commands that migrate

    database = await connected(settings_of(ctx).env.database_url)
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
    from storage import migrate
    from storage.database import connected

    database = await connected(settings_of(ctx).env.database_url)
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
    from storage.columns import utcnow
    from storage.database import connected
    from storage.retention import purge_older_than

    settings = settings_of(ctx)
    database = await connected(settings.env.database_url)
    try:
        cutoff = utcnow() - timedelta(days=days or settings.env.retention_days)
        purged = await purge_older_than(database, cutoff)
    finally:
        await database.dispose()
    click.echo(
        f"purged {purged.threads} threads, {purged.messages} messages, "
        f"{purged.inbox_events} inbox events, {purged.outbox_messages} outbox rows, "
        f"{purged.assistant_threads} assistant threads "
        f"older than {cutoff:%Y-%m-%d %H:%M} UTC"
    )


def main() -> None:
    cli(prog_name="switchboard")


if __name__ == "__main__":
    main()
