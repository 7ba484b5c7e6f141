"""Intake: a Bolt middleware that writes each conversational event down before Slack's ack.

Bolt acknowledges an HTTP event as soon as a listener is found, before the listener's work is
done, so anything not yet written down when the process dies is lost. This middleware runs
first: it records the event in the inbox (the database refuses duplicates: a Slack retry, or the
`message` twin of an `app_mention`) and queues it for the worker, then lets Bolt ack.

It runs from the first second of a start-up, before the worker exists (the agents and litellm
take seconds to load): an event recorded then waits in the inbox, and the worker's recovery
queues it the moment the worker is attached.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.response import BoltResponse

from agents.tracing import annotate
from bot.metrics import Metrics
from bot.slack import tracing
from bot.slack.turns import DM_THREAD, classify, is_dm, memory_thread
from storage.store import Store

if TYPE_CHECKING:
    from bot.slack.worker import Worker

log = structlog.stdlib.get_logger(__name__)


class Intake:
    def __init__(self, store: Store, metrics: Metrics, worker: Worker | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.worker = worker  # None while the bot starts: the row waits for recovery

    async def attach(self, worker: Worker) -> None:
        """From now on recorded events go straight to the worker; queue what waited."""
        self.worker = worker
        await worker.recover()

    async def __call__(
        self,
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        if body.get("type") != "event_callback" or not isinstance(body.get("event"), dict):
            await next()
            return None
        event = body["event"]
        self.metrics.events.labels(str(event.get("type"))).inc()
        classified = classify(event)
        if classified.kind == "turn" and await self._is_conversation(body, event):
            with tracing.intake(body, event):  # the root of the event's trace; the row carries it
                await self._record(body, event)
        elif classified.kind in ("edit", "delete"):
            await self._follow_edit(body, event, classified.kind)
        await next()
        return None

    async def _is_conversation(self, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """Mentions and DMs always; other channel messages only in threads the bot is part of."""
        if event.get("type") == "app_mention" or is_dm(event):
            return True
        thread_ts = event.get("thread_ts")
        if not thread_ts:
            return False
        team = str(body.get("team_id") or "")
        return (
            await self.store.memory.find_thread(team, str(event["channel"]), str(thread_ts))
            is not None
        )

    async def _record(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        thread = memory_thread(event)
        asked = time.perf_counter()
        row_id = await self.store.inbox.record(
            event_id=str(body.get("event_id")),
            kind=str(event.get("type")),
            payload=body,
            team_id=str(body.get("team_id") or ""),
            channel=str(event["channel"]),
            message_ts=str(event["ts"]),
            thread_ts=thread,
        )
        if self.worker is not None:
            self.worker.pace.recorded(time.perf_counter() - asked)
        if row_id is None:
            why = (
                "retry"
                if body.get("event_id") and await self._seen(str(body["event_id"]))
                else "twin"
            )
            self.metrics.duplicates.labels(why).inc()
            annotate({"switchboard.duplicate": why})
            log.info("intake.duplicate", event_id=body.get("event_id"), why=why)
            return
        log.info("intake.recorded", event_id=body.get("event_id"), inbox_id=row_id)
        if self.worker is not None:
            self.worker.submit(row_id, f"{event['channel']}:{thread}")

    async def _seen(self, event_id: str) -> bool:
        return await self.store.inbox.by_event_id(event_id) is not None

    async def _follow_edit(self, body: dict[str, Any], event: dict[str, Any], kind: str) -> None:
        """Edits and deletions update memory; the bot does not answer an edited message again."""
        previous = event.get("previous_message") or event.get("message") or {}
        ts = str(previous.get("ts") or event.get("deleted_ts") or "")
        thread_ts = previous.get("thread_ts") or (DM_THREAD if is_dm(event) else ts)
        thread = await self.store.memory.find_thread(
            str(body.get("team_id") or ""), str(event.get("channel")), str(thread_ts)
        )
        if thread is None or thread.id is None or not ts:
            return
        text = (
            "[deleted by the user]"
            if kind == "delete"
            else str((event.get("message") or {}).get("text") or "")
        )
        if await self.store.memory.edit_by_ts(thread.id, ts, text):
            log.info("intake.memory_updated", change=kind, ts=ts)
