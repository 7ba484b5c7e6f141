"""One lifespan for the whole bot, in two halves: taking in events, then running turns.

`started()` connects the database and Slack, builds the Bolt app with every listener and the
intake, and returns within a second or two, so `/slack/events` can verify, record and
acknowledge at once; meanwhile the agents, litellm and the router load in the background
(`bot.assembly`), and `/readyz` answers 503 until turns can run. `running()` is the same start
waited through to the end; the CLI and tests enter one or the other and leave in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from agents.tracing import traceparent
from bot.approvals.cards import APPROVE
from bot.errors import ConfigError
from bot.metrics import Metrics
from bot.settings import FIXES, Settings
from bot.slack.app import CommandHandler, create_app
from bot.slack.client import slack_client
from bot.slack.corrections import OPEN, PICK
from bot.slack.failures import describe_failure
from bot.slack.health import OK, Readiness
from bot.slack.http import web_app
from bot.slack.intake import Intake
from bot.slack.pending import Listener, Pending, deferred
from bot.surfaces.hub import Surfaces, register
from bot.telemetry import Telemetry
from bot.telemetry import start as start_telemetry
from storage import migrate
from storage.database import connected
from storage.store import Store

if TYPE_CHECKING:  # loaded in the background: see bot.assembly
    from bot.approvals.desk import ApprovalDesk
    from bot.digests.scheduler import DigestScheduler
    from bot.digests.service import Digests
    from bot.slack.corrections import CorrectionDesk
    from bot.slack.outbox import Sender
    from bot.slack.worker import Worker
    from router.supervisor import Supervisor

log = structlog.stdlib.get_logger(__name__)


@dataclass(kw_only=True)
class Switchboard:
    settings: Settings
    store: Store
    client: AsyncWebClient
    metrics: Metrics
    supervisor: Supervisor
    desk: ApprovalDesk
    corrections: CorrectionDesk
    sender: Sender
    worker: Worker
    app: AsyncApp
    bot_user_id: str
    team_id: str
    digests: Digests
    scheduler: DigestScheduler
    readiness: Readiness
    surfaces: Surfaces | None = None  # Home, assistant, shortcut, reasons (bot/surfaces/hub.py)
    telemetry: Telemetry | None = None  # traces, when OTEL_* asks for them


@dataclass(kw_only=True)
class Early:
    """What takes in events from the first second; `board()` waits for the rest."""

    settings: Settings
    store: Store
    client: AsyncWebClient
    metrics: Metrics
    identity: dict[str, Any]
    intake: Intake
    app: AsyncApp
    readiness: Readiness
    telemetry: Telemetry
    loaded: Pending[Switchboard]
    commands: dict[str, CommandHandler] = field(default_factory=dict)  # filled once loaded

    async def board(self) -> Switchboard:
        """The whole bot, once loaded; raises what kept it from loading (a `ConfigError`...)."""
        return await self.loaded.get()


async def serve_http(
    board: Switchboard | Early, host: str, port: int, *, events: bool = True
) -> tuple[web.AppRunner, int]:
    """Serve /slack/events (unless `events` is off: Socket Mode), /healthz, /readyz and
    /metrics; port 0 picks a free port, which is returned."""
    secret = board.settings.env.slack_signing_secret
    assert secret is not None or not events
    runner = web.AppRunner(
        web_app(
            board.app if events else None,
            secret.get_secret_value() if secret else "",
            board.metrics,
            board.readiness,
        )
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)


def _approve(board: Switchboard) -> Listener:
    from bot.approvals.clicks import on_click

    return on_click(board.desk, "approve")


def _correct(board: Switchboard) -> Listener:
    from bot.slack.corrections import on_correction

    return on_correction(board.corrections)


def _early_app(
    settings: Settings,
    client: AsyncWebClient,
    identity: dict[str, Any],
    intake: Intake,
    surfaces: Pending[Surfaces],
) -> tuple[AsyncApp, Pending[Switchboard], dict[str, CommandHandler]]:
    """The Bolt app: conversation goes through the intake now, the rest waits for the bot."""
    loaded: Pending[Switchboard] = Pending()
    commands: dict[str, CommandHandler] = {}
    secret = settings.env.slack_signing_secret
    app = create_app(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        intake=intake,
        identity=identity,
        commands=commands,
        actions={
            APPROVE: deferred(loaded, _approve),
            OPEN: deferred(loaded, _correct),
            PICK: deferred(loaded, _correct),
        },
        surfaces=lambda bolt: register(bolt, surfaces),  # Reject is there: it asks for a reason
        ready=loaded.wait,
    )
    return app, loaded, commands


@contextlib.asynccontextmanager
async def started(
    settings: Settings,
    *,
    upgrade_database: bool = False,
    socket_mode: bool = False,
    lease: timedelta = timedelta(seconds=30),
    post_interval: float = 1.0,
    post_lease: timedelta = timedelta(seconds=60),
    max_post_backoff: float = 8.0,
) -> AsyncIterator[Early]:
    """Take in events now; load the bot in the background (`Early.board()` waits for it)."""
    settings.require("SLACK_BOT_TOKEN", *(() if socket_mode else ("SLACK_SIGNING_SECRET",)))
    if settings.file.billing.connector == "stripe":  # checked here: the agents load later
        settings.require("STRIPE_API_KEY")
    store = await _store(settings, upgrade_database)
    http = aiohttp.ClientSession()
    client = slack_client(settings, http)
    try:
        identity = await client.auth_test()
    except Exception as exc:
        await store.close()
        await http.close()
        raise _slack_refused(exc) from None
    metrics = Metrics.create()
    intake = Intake(store, metrics)
    who = dict(identity.data) if isinstance(identity.data, dict) else {}
    surfaces: Pending[Surfaces] = Pending()
    app, loaded, commands = _early_app(settings, client, who, intake, surfaces)
    readiness = Readiness(store, client)
    traces = start_telemetry(settings.env)
    early = Early(
        settings=settings,
        store=store,
        client=client,
        metrics=metrics,
        identity=who,
        intake=intake,
        app=app,
        readiness=readiness,
        telemetry=traces,
        loaded=loaded,
        commands=commands,
    )
    stop = asyncio.Event()
    options = {
        "lease": lease,
        "post_interval": post_interval,
        "post_lease": post_lease,
        "max_post_backoff": max_post_backoff,
    }
    loading = asyncio.create_task(_load(early, http, surfaces, stop, options))
    log.info("switchboard.accepting", bot_user_id=who.get("user_id"))
    try:
        yield early
    finally:
        stop.set()
        if not loaded.ready:
            loading.cancel()
        await asyncio.gather(loading, return_exceptions=True)
        await readiness.close()
        await traces.close()  # the last spans go out
        await store.close()
        await http.close()


@contextlib.asynccontextmanager
async def running(settings: Settings, **options: Any) -> AsyncIterator[Switchboard]:
    """The whole bot, loaded: `started()` waited through (options as there)."""
    async with started(settings, **options) as early:
        yield await early.board()


async def _load(
    early: Early,
    http: aiohttp.ClientSession,
    surfaces: Pending[Surfaces],
    stop: asyncio.Event,
    options: dict[str, Any],
) -> None:
    """Load and start the rest, hold it until the lifespan ends, then stop it in reverse."""
    try:
        # Imported on a thread: seconds of imports (litellm) would otherwise stall the event
        # loop that is answering Slack meanwhile.
        await asyncio.to_thread(importlib.import_module, "bot.assembly")
        from bot.assembly import assembled

        async with assembled(early, http, **options) as board:
            assert board.surfaces is not None
            surfaces.set(board.surfaces)
            early.readiness.turns = OK
            early.loaded.set(board)
            log.info(
                "switchboard.started",
                bot_user_id=board.bot_user_id,
                database=early.store.db.url.get_backend_name(),
            )
            await stop.wait()
    except Exception as exc:
        early.readiness.turns = f"failed to start: {type(exc).__name__}"
        early.loaded.fail(exc)
        surfaces.fail(exc)
        if not isinstance(exc, ConfigError):
            log.exception("switchboard.load_failed")


async def _store(settings: Settings, upgrade_database: bool) -> Store:
    db = await connected(settings.env.database_url)
    if upgrade_database:
        await migrate.upgrade(db)
    elif await migrate.current(db) != migrate.head():
        await db.dispose()
        raise ConfigError(
            "DATABASE_URL", "the database schema is not up to date", "Run `switchboard db upgrade`"
        )
    return Store.over(db, trace_context=traceparent)  # rows carry the span that wrote them


def _slack_refused(exc: Exception) -> ConfigError:
    """Why start-up could not use Slack, in one line: the token, or the address."""
    failure = describe_failure(exc)
    if failure.code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
        return ConfigError(
            "SLACK_BOT_TOKEN", f"Slack did not accept it ({failure.code})", FIXES["SLACK_BOT_TOKEN"]
        )
    return ConfigError(
        "SLACK_API_URL",
        f"the Slack Web API could not be used ({failure.code})",
        "Check the network and SLACK_API_URL, or try again if Slack is having an outage",
    )
