"""The slow half of a start-up: agents, router, worker, sender, approvals, digests, surfaces.

Importing this module loads litellm, the agents and the trained router (seconds), so
`bot.runtime` imports it only after the process is already taking in events: it runs in the
background while `/slack/events` records and acknowledges, and `/readyz` answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog

from bot.approvals.approvers import GroupMembers
from bot.approvals.desk import ApprovalDesk
from bot.commands import DecideCommand, StatusCommand
from bot.digests.scheduler import DigestScheduler
from bot.digests.service import DigestCommand, Digests
from bot.slack.attachments import Attachments
from bot.slack.budget_alerts import BudgetAlerts
from bot.slack.corrections import CorrectionDesk
from bot.slack.outbox import Sender
from bot.slack.worker import Worker
from bot.surfaces.hub import Surfaces
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

if TYPE_CHECKING:
    from bot.runtime import Early, Switchboard

log = structlog.stdlib.get_logger(__name__)


async def _supervisor(early: Early) -> tuple[Supervisor, dict[str, Any], Any]:
    settings, store = early.settings, early.store
    runner = runner_for(settings, store)
    agents = build_agents(settings, store, SlackNotifier(early.client))
    trained = await stored_classifier(settings, store)  # the examples and the corrections
    supervisor = Supervisor(
        store,
        agents,
        runner,
        decider_for(settings, runner.llm, trained),
        approval_rules(settings),
        supervisor_settings(settings),
        on_model_calls=early.metrics.count_model_calls,
    )
    return supervisor, agents, runner


@contextlib.asynccontextmanager
async def assembled(
    early: Early,
    http: aiohttp.ClientSession,
    *,
    lease: timedelta,
    post_interval: float,
    post_lease: timedelta,
    max_post_backoff: float,
) -> AsyncIterator[Switchboard]:
    """Everything that runs turns, started in order and stopped in reverse."""
    from bot.runtime import Switchboard
    from bot.slack.client import slack_client

    settings, store, client, metrics = early.settings, early.store, early.client, early.metrics
    supervisor, agents, runner = await _supervisor(early)
    sender = Sender(
        store,
        slack_client(settings, http, posting=True),
        metrics,
        pace=post_interval,
        lease=post_lease,
        max_backoff=max_post_backoff,
    )
    approvals = settings.file.approvals
    groups = GroupMembers(client, approvals.group_cache.total_seconds())
    desk = ApprovalDesk(store, supervisor, sender, groups, channel=approvals.channel, client=client)
    corrections = CorrectionDesk(store, supervisor, sender, groups, correctors(settings))
    digests = Digests(store, client, sender, settings.file.digests)
    scheduler = DigestScheduler(
        store, digests.run_scheduled, settings.file.digests, retry=digests.retry
    )
    worker = _worker(early, supervisor, sender, desk, http, lease)
    surfaces = Surfaces(store, client, desk, worker, metrics, agents, settings.file.digests)
    sender.watch(surfaces.posted)  # Home tabs, assistant thread titles
    early.commands.update(
        status=StatusCommand(
            store, agents["triage"].active_model, runner.llm.breakers, spend_budgets(settings)
        ),
        approve=DecideCommand(desk, "approve"),
        reject=DecideCommand(desk, "reject"),
        digest=DigestCommand(digests),
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
        app=early.app,
        bot_user_id=str(early.identity["user_id"]),
        team_id=str(early.identity.get("team_id") or ""),
        digests=digests,
        scheduler=scheduler,
        readiness=early.readiness,
        surfaces=surfaces,
        telemetry=early.telemetry,
    )
    async with _tasks(board):
        await desk.reconcile()
        await early.intake.attach(worker)  # and the events recorded while this loaded
        _settle_heap()
        yield board


@contextlib.asynccontextmanager
async def _tasks(board: Switchboard) -> AsyncIterator[None]:
    """The loops of a running bot; stopped in reverse, the worker's turns first."""
    tasks = [
        asyncio.create_task(board.sender.run()),
        asyncio.create_task(board.worker.sweep()),
        asyncio.create_task(board.desk.sweep()),
    ]
    # Only one replica schedules digests (a lease); with none configured there is nothing to run.
    digests = board.settings.file.digests
    scheduling = asyncio.create_task(board.scheduler.run()) if digests else None
    try:
        yield
    finally:
        await _stop(scheduling)
        await board.worker.stop()
        if board.surfaces is not None:
            await board.surfaces.stop()
        for task in tasks:
            await _stop(task)


def _worker(
    early: Early,
    supervisor: Supervisor,
    sender: Sender,
    desk: ApprovalDesk,
    http: aiohttp.ClientSession,
    lease: timedelta,
) -> Worker:
    settings, client = early.settings, early.client
    return Worker(
        early.store,
        supervisor,
        sender,
        client,
        early.metrics,
        bot_user_id=str(early.identity["user_id"]),
        concurrency=settings.env.max_concurrency,
        lease=lease,
        extra_messages=BudgetAlerts.of(settings).after(desk.cards_for),  # cards, then alerts
        attachments=Attachments(client, http),
    )


def _settle_heap() -> None:
    """Start-up's heap (litellm, the router) is built; keep it out of the way of turns.

    The collector need not scan it each time (freeze), and what loading freed — litellm parses
    JSON tables it then drops — goes back to the system: glibc keeps freed memory in its arenas
    otherwise, about 10 MB of the bot's resident size after 50 turns (`bench/startup.py`). Other C
    libraries have no `malloc_trim`, and keep it.
    """
    gc.collect()
    gc.freeze()
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)


async def _stop(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
