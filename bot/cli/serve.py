"""`switchboard run` (Slack, over HTTP or Socket Mode) and `switchboard local` (this machine).

The bot's modules (Bolt, the agents, litellm) are imported inside the commands, after the
settings are read: `--help` and a configuration mistake answer at once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import click
from pydantic import SecretStr

from bot.cli.support import run_async, settings_of, until_stopped, user_errors
from bot.config_file import ApproverRule
from bot.settings import Settings
from bot.slack.manifest import manifest

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    import localslack
    from bot.runtime import Early, Switchboard


def socket_handler(board: Early | Switchboard, app_token: str) -> AsyncSocketModeHandler:
    """The Socket Mode connection; `/readyz` reports whether it is up."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(board.app, app_token)
    board.readiness.socket_connected = handler.client.is_connected
    return handler


@click.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="HTTP port (default: $PORT, else 8080). In Socket Mode, only given this way, it "
    "serves /healthz, /readyz and /metrics.",
)
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP interface.")  # noqa: S104
@click.pass_context
@user_errors
@run_async
async def run(ctx: click.Context, port: int | None, host: str) -> None:
    """Connect to Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    from bot.runtime import serve_http, started

    settings = settings_of(ctx)
    socket = settings.env.slack_app_token is not None
    # Events are taken in at once; the agents and the router load meanwhile (`/readyz` says when).
    async with started(settings, socket_mode=socket) as board:
        if socket:
            token = settings.env.slack_app_token
            assert token is not None
            handler = socket_handler(board, token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            click.echo("Switchboard is connected to Slack over Socket Mode.")
            pages = await serve_http(board, host, port, events=False) if port else None
            await _until_stopped_or_failed(board)
            await handler.close_async()  # type: ignore[no-untyped-call]
            if pages is not None:
                await pages[0].cleanup()
            return
        runner, bound = await serve_http(board, host, port or settings.env.port)
        click.echo(f"Switchboard is listening on http://{host}:{bound}/slack/events")
        try:
            await _until_stopped_or_failed(board)
        finally:
            await runner.cleanup()


async def _until_stopped_or_failed(board: Early) -> None:
    """Until Ctrl-C or SIGTERM; a bot that cannot load (a setting only the agents check)
    raises its error here, which the CLI prints in one line."""
    await board.board()
    await until_stopped()


def _demo_approvers(settings: Settings, workspace: localslack.LocalSlack) -> Settings:
    """With no approvers configured, the local workspace's support leads approve, so the demo's
    refunds and pages can be decided. A real workspace never gets a default: nobody approves
    until switchboard.toml says who may."""
    approvals = settings.file.approvals
    if approvals.default.users or approvals.default.groups or approvals.agents or approvals.tools:
        return settings
    groups = {g.handle: g.id for g in workspace.workspace.usergroups.values()}
    leads = groups.get("support-leads")
    if leads is None:
        return settings
    default = ApproverRule(groups=[leads])
    approvals = approvals.model_copy(update={"default": default})
    return replace(settings, file=settings.file.model_copy(update={"approvals": approvals}))


@click.command()
@click.option(
    "--port", type=int, default=3000, show_default=True, help="Port of the local workspace page."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--socket", "socket_mode", is_flag=True, help="Deliver events over Socket Mode instead of HTTP."
)
@click.pass_context
@user_errors
@run_async
async def local(ctx: click.Context, port: int, host: str, socket_mode: bool) -> None:
    """Start a Slack-compatible workspace on this machine and the bot connected to it."""
    import localslack
    from bot.runtime import serve_http, started

    # What the workspace delivers and shows comes from the app's manifest, as on Slack.
    config = localslack.config_from_manifest(
        manifest(), localslack.LocalSlackConfig(delivery="socket" if socket_mode else "http")
    )
    try:
        workspace = await localslack.serve(host=host, port=port, config=config)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}); try --port"
        ) from None
    settings = _demo_approvers(settings_of(ctx), workspace).with_env(
        slack_api_url=workspace.api_url,
        slack_bot_token=SecretStr(workspace.bot_token),
        slack_signing_secret=SecretStr(workspace.signing_secret),
        slack_app_token=SecretStr(workspace.app_token) if socket_mode else None,
    )
    try:
        async with started(settings, upgrade_database=True, socket_mode=socket_mode) as board:
            if socket_mode:
                handler = socket_handler(board, workspace.app_token)
                await handler.connect_async()  # type: ignore[no-untyped-call]
            else:
                runner, bound = await serve_http(board, "127.0.0.1", 0)
                await workspace.use_http(f"http://127.0.0.1:{bound}/slack/events")
            click.echo(
                f"Switchboard is running on a local Slack workspace: open {workspace.url}\n"
                f"Events over {'Socket Mode' if socket_mode else 'HTTP'}; "
                f"database {board.store.db.url.render_as_string(hide_password=True)}. Ctrl-C stops."
            )
            await _until_stopped_or_failed(board)
            if socket_mode:
                await handler.close_async()  # type: ignore[no-untyped-call]
            else:
                await runner.cleanup()
    finally:
        await workspace.stop()
