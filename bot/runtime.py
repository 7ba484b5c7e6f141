"""One lifespan for the whole bot: database, Slack client, agents, worker, sender, Bolt app.

`running()` starts everything in order and stops it in reverse; the CLI enters it once, and a
test enters and exits it the same way. Serving (HTTP, Socket Mode) is layered on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from agents.tracing import traceparent
from bot.approvals.approvers import GroupMembers
from bot.approvals.cards import APPROVE
from bot.approvals.desk import ApprovalDesk
from bot.commands import DecideCommand, StatusCommand
from bot.digests.scheduler import DigestScheduler
from bot.digests.service import DigestCommand, Digests
from bot.errors import ConfigError
from bot.metrics import Metrics
from bot.settings import FIXES, Settings
from bot.slack.app import create_app
from bot.slack.attachments import Attachments
from bot.slack.budget_alerts import BudgetAlerts
from bot.slack.client import slack_client
from bot.slack.corrections import OPEN, PICK, CorrectionDesk
from bot.slack.failures import describe_failure
from bot.slack.health import Readiness
from bot.slack.http import web_app
from bot.slack.intake import Intake
from bot.slack.outbox import Sender
from bot.slack.worker import Worker
from bot.surfaces.hub import Surfaces
from bot.telemetry import Telemetry
from bot.telemetry import start as start_telemetry
from bot.wiring import (
    SlackNotifier,
    approval_rules,
    build_agents,
    correctors,
    decider_for,
    runner_for,
    spend_budgets,
    stored_classifier,
    supervisor_settings,
)
from router.supervisor import Supervisor
from storage import migrate
from storage.database import connected
from storage.store import Store
from storage.tables import OutboxMessage

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


async def serve_http(
    board: Switchboard, host: str, port: int, *, events: bool = True
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


def on_correction(desk: CorrectionDesk) -> Callable[..., Awaitable[None]]:
    """A Bolt action listener for "Wrong specialist?" and the choice that follows it."""

    async def listener(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body["user"]["id"])
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        message_id = int(str(action.get("value") or "0"))
        picked = PICK.match(str(action.get("action_id") or ""))
        if picked is None:
            await desk.opened(message_id, user, click)
        else:
            await desk.picked(message_id, picked.group(1), user, click)

    return listener


def on_click(desk: ApprovalDesk, decision: str) -> Callable[..., Awaitable[None]]:
    """A Bolt action listener: ack at once, then decide (the card is updated through the outbox)."""

    async def listener(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body["user"]["id"])
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        container = body.get("container") or {}
        card = None
        if container.get("channel_id") and container.get("message_ts"):
            card = (str(container["channel_id"]), str(container["message_ts"]))
        if decision == "approve":
            await desk.approve(str(action.get("value")), user, click, card)
        else:
            await desk.reject(str(action.get("value")), user, None, click, card)

    return listener


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    *,
    upgrade_database: bool = False,
    socket_mode: bool = False,
    lease: timedelta = timedelta(seconds=30),
    post_interval: float = 1.0,
    post_lease: timedelta = timedelta(seconds=60),
    max_post_backoff: float = 8.0,
) -> AsyncIterator[Switchboard]:
    settings.require("SLACK_BOT_TOKEN", *(() if socket_mode else ("SLACK_SIGNING_SECRET",)))
    db = await connected(settings.env.database_url)
    if upgrade_database:
        await migrate.upgrade(db)
    elif await migrate.current(db) != migrate.head():
        await db.dispose()
        raise ConfigError(
            "DATABASE_URL", "the database schema is not up to date", "Run `switchboard db upgrade`"
        )
    store = Store.over(db, trace_context=traceparent)  # rows carry the span that wrote them
    http = aiohttp.ClientSession()
    client = slack_client(settings, http)
    try:
        identity = await client.auth_test()
    except Exception as exc:
        await store.close()
        await http.close()
        raise _slack_refused(exc) from None
    metrics = Metrics.create()
    runner = runner_for(settings, store)
    agents = build_agents(settings, store, SlackNotifier(client))
    trained = await stored_classifier(settings, store)  # the examples and the corrections
    supervisor = Supervisor(
        store,
        agents,
        runner,
        decider_for(settings, runner.llm, trained),
        approval_rules(settings),
        supervisor_settings(settings),
        on_model_calls=metrics.count_model_calls,
    )
    desk_ref: list[ApprovalDesk] = []

    surfaces_ref: list[Surfaces] = []

    async def card_posted(row: OutboxMessage, ts: str) -> None:
        parts = row.dedupe_key.split(":")
        if parts[0] == "card" and parts[-1] == "post":
            await desk_ref[0].card_posted(parts[1], row.channel, ts)
        if surfaces_ref:
            await surfaces_ref[0].posted(row, ts)  # Home tabs, assistant thread titles

    sender = Sender(
        store,
        slack_client(settings, http, posting=True),
        metrics,
        pace=post_interval,
        on_posted=card_posted,
        lease=post_lease,
        max_backoff=max_post_backoff,
    )
    approvals = settings.file.approvals
    groups = GroupMembers(client, approvals.group_cache.total_seconds())
    desk = ApprovalDesk(store, supervisor, sender, groups, channel=approvals.channel, client=client)
    desk_ref.append(desk)
    corrections = CorrectionDesk(store, supervisor, sender, groups, correctors(settings))
    correct = on_correction(corrections)
    digests = Digests(store, client, sender, settings.file.digests)
    scheduler = DigestScheduler(
        store, digests.run_scheduled, settings.file.digests, retry=digests.retry
    )
    worker = Worker(
        store,
        supervisor,
        sender,
        client,
        metrics,
        bot_user_id=str(identity["user_id"]),
        concurrency=settings.env.max_concurrency,
        lease=lease,
        extra_messages=BudgetAlerts.of(settings).after(desk.cards_for),  # cards, then alerts
        attachments=Attachments(client, http),
    )
    surfaces = Surfaces(store, client, desk, worker, metrics, agents, settings.file.digests)
    surfaces_ref.append(surfaces)
    secret = settings.env.slack_signing_secret
    app = create_app(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        intake=Intake(store, worker, metrics),
        identity=dict(identity.data) if isinstance(identity.data, dict) else {},
        commands={
            "status": StatusCommand(
                store, agents["triage"].active_model, runner.llm.breakers, spend_budgets(settings)
            ),
            "approve": DecideCommand(desk, "approve"),
            "reject": DecideCommand(desk, "reject"),
            "digest": DigestCommand(digests),
        },
        actions={
            APPROVE: on_click(desk, "approve"),
            OPEN: correct,
            PICK: correct,
        },
        surfaces=surfaces.register,  # Reject is there: it asks for a reason first
    )
    board = Switchboard(
        settings=settings,
        store=store,
        client=client,
        metrics=metrics,
        supervisor=supervisor,
        desk=desk,
        corrections=corrections,
        sender=sender,
        worker=worker,
        app=app,
        bot_user_id=str(identity["user_id"]),
        team_id=str(identity.get("team_id") or ""),
        digests=digests,
        scheduler=scheduler,
        readiness=Readiness(store, client),
    )
    board.surfaces = surfaces
    traces = board.telemetry = start_telemetry(settings.env)
    sending = asyncio.create_task(sender.run())
    sweeping = asyncio.create_task(worker.sweep())
    expiring = asyncio.create_task(desk.sweep())
    # Only one replica schedules digests (a lease); with none configured there is nothing to run.
    scheduling = asyncio.create_task(scheduler.run()) if settings.file.digests else None
    await desk.reconcile()
    await worker.recover()
    gc.freeze()  # start-up's large heap (litellm, sklearn) need not be scanned by every collection
    log.info(
        "switchboard.started", bot_user_id=board.bot_user_id, database=db.url.get_backend_name()
    )
    try:
        yield board
    finally:
        if scheduling is not None:
            scheduling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduling
        await worker.stop()
        await surfaces.stop()
        for task in (sending, sweeping, expiring):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await board.readiness.close()
        await traces.close()  # the last spans go out
        await store.close()
        await http.close()


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
