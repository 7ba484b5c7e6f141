"""Turns run here: messages of a thread in order, threads in parallel up to a limit.

A turn starts by claiming its inbox row with a lease, which a heartbeat renews while the turn
runs; if the process dies, the lease runs out and recovery (at start-up, or in a sibling
replica) takes the row again. A turn whose reply is already in the outbox is not run twice;
one whose reply was being streamed when the process died runs again, and its reply replaces
what was streamed (`bot.slack.stream`). A failure posts a short, honest message in the thread
and is logged with the event id. While a turn runs, the thread shows what it is doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from agents.doing import READING
from agents.tracing import fail_current
from bot.metrics import Metrics
from bot.slack import tracing
from bot.slack.attachments import Attachments
from bot.slack.corrections import with_control
from bot.slack.outbox import Sender
from bot.slack.pace import Pace
from bot.slack.render import attribution, reply_messages
from bot.slack.status import ThreadStatus
from bot.slack.stream import SlackStream, settle_replacing
from bot.slack.turns import reply_thread, turn_of
from router.supervisor import Supervisor
from router.turn import Reply, Turn
from storage.outbox import STREAMING, Outgoing
from storage.store import Store

log = structlog.stdlib.get_logger(__name__)

FAILURE = (
    "Sorry, something went wrong while I was working on this, and I could not answer. "
    "It has been logged (event `{event_id}`); a person will look at it."
)


class Worker:
    def __init__(
        self,
        store: Store,
        supervisor: Supervisor,
        sender: Sender,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        bot_user_id: str,
        concurrency: int = 16,
        lease: timedelta = timedelta(seconds=30),
        extra_messages: Callable[[Reply], Awaitable[list[Outgoing]]] | None = None,
        attachments: Attachments | None = None,
    ) -> None:
        self.store = store
        self.supervisor = supervisor
        self.sender = sender
        self.client = client
        self.metrics = metrics
        self.bot_user_id = bot_user_id
        self.lease = lease
        self.extra_messages = extra_messages
        self.attachments = attachments
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.pace = Pace(concurrency)  # the intake tells it how long events take to record
        metrics.turns_allowed.set(concurrency)
        self._queues: dict[str, deque[int]] = {}
        self._queued: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, row_id: int, thread_key: str) -> None:
        """Queue a recorded event behind earlier ones of its thread (once, however often asked)."""
        if row_id in self._queued:
            return
        self._queued.add(row_id)
        queue = self._queues.get(thread_key)
        if queue is not None:
            queue.append(row_id)
            return
        self._queues[thread_key] = deque([row_id])
        self._idle.clear()
        task = asyncio.create_task(self._run_thread(thread_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self) -> int:
        """Queue what a crash left: rows never started, or started under a lapsed lease."""
        rows = await self.store.inbox.recoverable()
        for row in rows:
            assert row.id is not None
            self.submit(row.id, f"{row.channel}:{row.thread_ts}")
        if rows:
            log.info("inbox.recovered", count=len(rows))
        return len(rows)

    async def sweep(self) -> None:
        """Recover periodically: a sibling replica (or our previous life) may have died mid-turn."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 2)
            await self.recover()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run_thread(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                row_id = queue[0]
                async with self.pace:  # at most `concurrency`, fewer while acks are slow
                    self.metrics.turns_allowed.set(self.pace.allowed)
                    await self._process(row_id)
                queue.popleft()
                self._queued.discard(row_id)
        finally:
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def _process(self, row_id: int) -> None:
        row = await self.store.inbox.claim(row_id, self.owner, self.lease)
        if row is None:
            return
        files = row.payload["event"].get("files") or []
        attached = await self.attachments.describe(files) if files and self.attachments else ""
        turn = turn_of(row.payload, self.bot_user_id, attached)
        started = time.perf_counter()
        with (
            tracing.turn(turn, row.trace_context),
            structlog.contextvars.bound_contextvars(
                event_id=turn.event_id, thread=f"{turn.channel}:{turn.thread_ts}"
            ),
        ):
            heartbeat = asyncio.create_task(self._heartbeat(row_id))
            try:
                await self._turn(turn)
            except Exception as exc:
                log.exception("turn.failed", error=type(exc).__name__)
                fail_current(exc)
                self.metrics.turn_failures.inc()
                await self._enqueue_failure(turn)
                await self.store.inbox.fail(row_id, f"{type(exc).__name__}: {exc}")
            else:
                await self.store.inbox.complete(row_id)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                self.metrics.turn_seconds.observe(time.perf_counter() - started)

    async def _turn(self, turn: Turn) -> None:
        earlier = await self.store.outbox.by_key(_key(turn, 0))
        if earlier is not None and earlier.status != STREAMING:
            log.info("turn.already_answered")
            self.sender.notify()
            return
        status = ThreadStatus(self.client, turn)
        await status.show(READING)  # before the first model call (the router may make one)
        # Streamed into Slack as it is written; a re-run after a crash mid-stream is not: its
        # reply replaces what the first run streamed, once it is complete.
        stream = SlackStream(
            self.sender.client, self.store.outbox, turn, _key(turn, 0), status, live=not earlier
        )
        try:
            reply = await self.supervisor.handle(turn, stream)
        except Exception:
            await stream.cut_short()
            raise
        finally:
            await status.clear()
        self._count(reply)
        context = attribution(
            reply.agent, reply.decision.source, reply.decision.confidence, reply.degraded
        )
        rendered = reply_messages(reply.text, context)
        if reply.message_id is not None and not (reply.decision.clarify or reply.holding):
            rendered = with_control(rendered, reply.message_id)  # "Wrong specialist?"
        messages = [
            Outgoing(
                dedupe_key=_key(turn, i),
                channel=turn.channel,
                text=text,
                blocks=blocks,
                thread_ts=reply_thread(turn),
            )
            for i, (text, blocks) in enumerate(rendered)
        ]
        extra = await self.extra_messages(reply) if self.extra_messages is not None else []
        if earlier is not None and earlier.id is not None:
            await settle_replacing(
                self.store.outbox, earlier.id, earlier.target_ts, [*messages, *extra]
            )
        elif not await stream.finish(reply, messages, extra):
            await self.store.outbox.enqueue_many([*messages, *extra])  # the reply, then its cards
        self.sender.notify()

    def _count(self, reply: Reply) -> None:
        for choice in reply.decision.routes:
            self.metrics.routes.labels(choice.route, reply.decision.source).inc()

    async def _enqueue_failure(self, turn: Turn) -> None:
        with contextlib.suppress(Exception):
            await self.store.outbox.enqueue(
                Outgoing(
                    dedupe_key=f"turn:{turn.event_id}:error",
                    channel=turn.channel,
                    text=FAILURE.format(event_id=turn.event_id),
                    thread_ts=reply_thread(turn),
                )
            )
            self.sender.notify()

    async def _heartbeat(self, row_id: int) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            await self.store.inbox.renew(row_id, self.owner, self.lease)


def _key(turn: Turn, index: int) -> str:
    return f"turn:{turn.event_id}:{index}"
