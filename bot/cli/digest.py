"""`switchboard digest send NAME`: post a digest now, or preview it without Slack.

`--dry-run` composes the digest from the database exactly as the scheduler would, prints its
Block Kit blocks as JSON on stdout (paste them into Slack's Block Kit Builder) and writes the
chart to a PNG file whose path it prints on stderr. It never calls Slack and records no run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.support import fail, run_async, settings_of, user_errors
from bot.config_file import parse_duration
from bot.errors import ConfigError
from bot.settings import FIXES, Settings

if TYPE_CHECKING:  # imported in the commands, after the settings are read
    from storage.store import Store


def _window(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        fail(f"--window: {exc}")
    assert isinstance(parsed, timedelta)
    return parsed


async def _open_store(settings: Settings) -> Store:
    from storage import migrate
    from storage.database import connected
    from storage.store import Store

    db = await connected(settings.env.database_url)
    if await migrate.current(db) != migrate.head():
        await db.dispose()
        raise ConfigError(
            "DATABASE_URL", "the database schema is not up to date", "Run `switchboard db upgrade`"
        )
    return Store.over(db)


@click.group()
def digest() -> None:
    """Digests: the figures of a time window, posted to a channel."""


@digest.command("send")
@click.argument("name")
@click.option(
    "--window", "window_text", metavar="DURATION", help="e.g. 24h or 7d (default: the config's)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the blocks as JSON and write the chart; post nothing."
)
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --dry-run writes the chart PNG (default: ./NAME-TIME.png).",
)
@click.pass_context
@user_errors
@run_async
async def send(
    ctx: click.Context,
    name: str,
    window_text: str | None,
    dry_run: bool,
    chart_path: Path | None,
) -> None:
    """Send digest NAME (from switchboard.toml) for the window ending now."""
    settings = settings_of(ctx)
    window = _window(window_text)
    store = await _open_store(settings)
    try:
        if dry_run:
            await _dry_run(store, settings, name, window, chart_path)
        else:
            await _send(store, settings, name, window)
    finally:
        await store.close()


async def _dry_run(
    store: Store, settings: Settings, name: str, window: timedelta | None, path: Path | None
) -> None:
    from bot.digests.service import compose, find_config, on_demand_end
    from storage.columns import utcnow

    config = find_config(settings.file.digests, name)
    composed = await compose(store, config, on_demand_end(utcnow()), window=window)
    click.echo(json.dumps({"text": composed.text, "blocks": composed.blocks}, indent=2))
    if composed.chart is None:
        click.echo("no chart: nothing happened in the window", err=True)
        return
    target = path or Path(composed.chart_name)
    target.write_bytes(composed.chart)
    click.echo(f"chart written to {target} ({len(composed.chart)} bytes)", err=True)
    click.echo(f"alt text: {composed.chart_alt}", err=True)


async def _send(store: Store, settings: Settings, name: str, window: timedelta | None) -> None:
    if settings.env.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN", "is not set", FIXES["SLACK_BOT_TOKEN"])
    from bot.digests.service import Digests
    from bot.metrics import Metrics
    from bot.slack.client import slack_client
    from bot.slack.outbox import Sender

    client = slack_client(settings)
    sender = Sender(store, client, Metrics.create())
    sending = asyncio.create_task(sender.run())
    try:
        sent = await Digests(store, client, sender, settings.file.digests).send(name, window=window)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    if sent.status == "already":
        click.echo(f"digest {sent.name} for this minute was already posted to {sent.channel}")
        return
    click.echo(f"posted digest {sent.name} to {sent.channel} (ts {sent.ts})")
    if sent.permalink:
        click.echo(sent.permalink)
