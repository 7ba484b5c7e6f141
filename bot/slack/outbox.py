"""Posts what the outbox holds, about one message per second per channel, never twice.

Every post carries its outbox id in Slack message metadata. A row left `sending` by a process
that died mid-post is therefore checked against Slack first (the thread, or for a top-level
message the channel's recent history): if Slack already has a message with that id, the row is
marked posted with that ts instead of being posted again.

Any answer from the Web API is survived: JSON errors, HTML error pages, empty bodies, resets,
timeouts. A refusal for good fails the row; anything else puts it back with a growing delay
(capped, so delivery resumes within seconds of Slack recovering), and when Slack may have acted
on the failed call (a 5xx, a reset mid-request) the row stays `sending`, so the next try looks
for the post first. A channel stops at its first failure, so its messages keep their order.

A `replace` row ends a streamed reply that could not end well (Slack failed mid-stream, the
model was cut off, the process died): the streamed message is stopped if it still streams and
updated to the whole reply, with the outbox id in its metadata. Both calls can be repeated, so
a crash between them is harmless. When the stream's ts was never recorded (the process died
the moment Slack created it), the message is looked for in the thread first: the bot's message
carrying this row's outbox id, else its newest one there with no metadata at all since the row
was made (every other message the bot posts carries metadata). Only when neither is found is
the reply posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.slack import tracing
from bot.slack.failures import describe_failure
from storage.store import Store
from storage.tables import OutboxMessage

log = structlog.stdlib.get_logger(__name__)

METADATA_TYPE = "switchboard_outbox"
LEASE = timedelta(seconds=60)
CLOCK_SKEW = 300.0  # seconds: how far Slack's clock may be from ours when searching history
HISTORY_PAGES = 5
STREAM_SKEW = 60.0  # seconds: a stream's ts may precede its row's creation on our clock by this


Posted = Callable[[OutboxMessage, str], Awaitable[None]]


class Sender:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        pace: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        lease: timedelta = LEASE,
        max_backoff: float = 8.0,
    ) -> None:
        self.store = store
        self.client = client
        self.metrics = metrics
        self.pace = pace
        self.clock = clock
        self._watchers: list[Posted] = []
        self.lease = lease
        self.max_backoff = max_backoff
        self.owner = f"sender-{os.getpid()}-{id(self):x}"
        self._wake = asyncio.Event()
        self._next_slot: dict[str, float] = {}
        self._posted: dict[int, asyncio.Event] = {}
        self._channels: dict[str, asyncio.Task[None]] = {}

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; wakes when notified, and every few seconds to retry."""
        try:
            while True:
                self._wake.clear()
                await self._kick()
                try:
                    async with asyncio.timeout(5):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:  # a post cut short stays `sending`: the next sender looks for it first
            for task in self._channels.values():
                task.cancel()
            await asyncio.gather(*self._channels.values(), return_exceptions=True)

    async def drain(self) -> None:
        """Send everything waiting now, and return when it is sent (tests, shutdown)."""
        await self._kick()
        await asyncio.gather(*self._channels.values(), return_exceptions=True)

    async def _kick(self) -> None:
        """A task per channel with work: a paced or rate-limited channel never holds up another."""
        for channel in await self.store.outbox.channels_with_work():
            task = self._channels.get(channel)
            if task is None or task.done():
                task = asyncio.create_task(self._drain_channel(channel))
                task.add_done_callback(_log_crash)
                self._channels[channel] = task

    async def _drain_channel(self, channel: str) -> None:
        """Send the channel's rows in order; after a failure, wait out its delay and go on."""
        while rows := await self.store.outbox.sendable(channel):
            sent, delay = 0, None
            for row_id, status in rows:
                claimed = await self.store.outbox.claim(row_id, self.owner, self.lease)
                if claimed is None:
                    continue
                sent += 1
                delay = await self._send(claimed, crashed_before=status == "sending")
                if delay is not None:
                    break  # Slack is failing: later rows would fail too, and lose their order
            if delay is not None:
                await asyncio.sleep(delay)
            elif not sent:
                return

    async def wait_posted(self, row_id: int) -> None:
        """For callers that must know a reply is out (tests, the CLI)."""
        await self._posted.setdefault(row_id, asyncio.Event()).wait()

    async def _send(self, row: OutboxMessage, *, crashed_before: bool) -> float | None:
        """Post one row; the seconds to wait before the channel's next try, None when done."""
        assert row.id is not None
        try:
            if crashed_before and (ts := await self._already_posted(row)) is not None:
                await self._done(row, ts, "recovered")
                return None
            if row.kind in ("post", "replace"):  # Slack's ~1/s per channel for postMessage
                await self._pace(row.channel)
            ts = await self._post(row)
            await self._done(row, ts, "posted")
        except Exception as exc:  # whatever Slack (or the network) answered; never a dead task
            return await self._failed(row, exc, checking=crashed_before)
        return None

    async def _failed(self, row: OutboxMessage, exc: Exception, *, checking: bool) -> float | None:
        assert row.id is not None
        failure = describe_failure(exc)
        if failure.permanent:
            await self.store.outbox.mark_failed(row.id, failure.code)
            self.metrics.posts.labels("failed").inc()
            log.error("outbox.failed", outbox_id=row.id, channel=row.channel, error=failure.code)
            return None
        delay = min(self.max_backoff, 0.5 * 2.0 ** max(0, row.attempts - 1))
        delay = max(delay, failure.retry_after or 0.0)
        # A row whose post may have reached Slack (or that was being checked) is looked for
        # again before it is posted again.
        check_first = checking or (row.kind == "post" and failure.maybe_done)
        await self.store.outbox.retry_later(
            row.id, failure.code, timedelta(seconds=delay), check_first=check_first
        )
        self.metrics.posts.labels("retry").inc()
        log.warning(
            "outbox.retry",
            outbox_id=row.id,
            channel=row.channel,
            error=failure.code,
            attempt=row.attempts,
            wait=delay,
        )
        return delay

    def watch(self, watcher: Posted) -> None:
        """Be told of each message Slack took, with its ts: the desk records where its cards
        are, the surfaces refresh what shows them. Each watcher reads the rows it made."""
        self._watchers.append(watcher)

    async def _done(self, row: OutboxMessage, ts: str | None, result: str) -> None:
        assert row.id is not None
        await self.store.outbox.mark_posted(row.id, ts)
        self.metrics.posts.labels(result).inc()
        if ts:
            for watcher in self._watchers:
                await watcher(row, ts)
        self._posted.setdefault(row.id, asyncio.Event()).set()

    async def _pace(self, channel: str) -> None:
        now = self.clock()
        slot = max(now, self._next_slot.get(channel, now))
        self._next_slot[channel] = slot + self.pace
        if slot > now:
            await asyncio.sleep(slot - now)

    @tracing.posted  # a span in the trace of the work that queued the row
    async def _post(self, row: OutboxMessage) -> str | None:
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"outbox_id": row.id}}
        common: dict[str, Any] = {"channel": row.channel, "text": row.text}
        if row.blocks is not None:
            common["blocks"] = row.blocks
        if row.kind == "replace":
            return await self._replace(row, metadata, common)
        if row.kind == "update":
            response = await self.client.chat_update(ts=row.target_ts or "", **common)
        elif row.kind == "ephemeral":
            response = await self.client.chat_postEphemeral(
                user=row.user_id or "", thread_ts=row.thread_ts, **common
            )
            return str(response.get("message_ts") or "") or None
        else:
            response = await self.client.chat_postMessage(
                thread_ts=row.thread_ts, metadata=metadata, unfurl_links=False, **common
            )
        return str(response.get("ts") or "") or None

    async def _replace(
        self, row: OutboxMessage, metadata: dict[str, Any], common: dict[str, Any]
    ) -> str | None:
        ts = row.target_ts or await self._streamed_message(row)
        if ts is not None:
            # A stream still open must be stopped before it can be updated; one that is not
            # (or a workspace without streams) answers an error, and is updated all the same.
            with contextlib.suppress(SlackApiError):
                await self.client.chat_stopStream(channel=row.channel, ts=ts)
            try:
                await self.client.chat_update(ts=ts, metadata=metadata, **common)
                return ts
            except SlackApiError as exc:
                if exc.response.get("error") not in ("message_not_found", "cant_update_message"):
                    raise
        response = await self.client.chat_postMessage(
            thread_ts=row.thread_ts, metadata=metadata, unfurl_links=False, **common
        )
        return str(response.get("ts") or "") or None

    async def _streamed_message(self, row: OutboxMessage) -> str | None:
        """The ts of a streamed reply whose ts was never recorded, if Slack has one."""
        if not row.thread_ts:
            return await self._tagged(row)
        replies = await self.client.conversations_replies(
            channel=row.channel, ts=row.thread_ts, include_all_metadata=True, limit=200
        )
        messages = replies.get("messages") or []
        tagged = _find(row, messages)
        if tagged is not None:
            return tagged
        since = row.created_at.timestamp() - STREAM_SKEW
        untagged = [
            str(m.get("ts"))
            for m in messages
            if m.get("bot_id") and not m.get("metadata") and float(m.get("ts") or 0) >= since
        ]
        return untagged[-1] if untagged else None

    async def _already_posted(self, row: OutboxMessage) -> str | None:
        """The ts of the message Slack already has for this row, if any."""
        if row.kind != "post":
            return None  # an update or a replace can be made again; an ephemeral cannot be found
        return await self._tagged(row)

    async def _tagged(self, row: OutboxMessage) -> str | None:
        """The ts of a message in Slack carrying this row's outbox id in its metadata."""
        if row.thread_ts:
            replies = await self.client.conversations_replies(
                channel=row.channel, ts=row.thread_ts, include_all_metadata=True, limit=200
            )
            return _find(row, replies.get("messages") or [])
        # A top-level message (a DM reply): the channel's history since the row was queued.
        oldest = f"{row.created_at.timestamp() - CLOCK_SKEW:.6f}"
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = await self.client.conversations_history(
                channel=row.channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            found = _find(row, page.get("messages") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if found is not None or not cursor:
                return found
        return None


def _find(row: OutboxMessage, messages: list[dict[str, Any]]) -> str | None:
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("outbox_id") == row.id:
            return str(message.get("ts"))
    return None


def _log_crash(task: asyncio.Task[None]) -> None:
    """A channel task that died (the database failed) is restarted by the next kick; say so."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("outbox.channel_failed", error=type(exc).__name__)
