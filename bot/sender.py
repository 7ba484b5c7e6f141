"""Posts what the outbox holds, about one message per second per channel, never twice.

Every post carries its outbox id in Slack message metadata. A row left `sending` by a process
that died mid-post is therefore checked against the thread first: if Slack already has a
message with that id, the row is marked posted with that ts instead of being posted again.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from storage.store import Store
from storage.tables import OutboxMessage

log = structlog.stdlib.get_logger(__name__)

METADATA_TYPE = "switchboard_outbox"
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "invalid_auth",
        "account_inactive",
        "message_not_found",
        "cant_update_message",
    }
)
LEASE = timedelta(seconds=60)


class Sender:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        pace: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_posted: Callable[[OutboxMessage, str], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.metrics = metrics
        self.pace = pace
        self.clock = clock
        self.on_posted = on_posted
        self.owner = f"sender-{os.getpid()}-{id(self):x}"
        self._wake = asyncio.Event()
        self._next_slot: dict[str, float] = {}
        self._posted: dict[int, asyncio.Event] = {}
        self._channels: dict[str, asyncio.Task[None]] = {}

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; wakes when notified, and every few seconds to retry."""
        while True:
            self._wake.clear()
            await self._kick()
            try:
                async with asyncio.timeout(5):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def drain(self) -> None:
        """Send everything waiting now, and return when it is sent (tests, shutdown)."""
        await self._kick()
        await asyncio.gather(*self._channels.values(), return_exceptions=True)

    async def _kick(self) -> None:
        """A task per channel with work: a paced or rate-limited channel never holds up another."""
        for channel in {row.channel for row in await self.store.outbox.unposted()}:
            task = self._channels.get(channel)
            if task is None or task.done():
                self._channels[channel] = asyncio.create_task(self._drain_channel(channel))

    async def _drain_channel(self, channel: str) -> None:
        while rows := await self.store.outbox.unposted(channel=channel):
            sent = 0
            for row in rows:
                assert row.id is not None
                claimed = await self.store.outbox.claim(row.id, self.owner, LEASE)
                if claimed is not None:
                    sent += 1
                    await self._send(claimed, crashed_before=row.status == "sending")
            if not sent:
                return

    async def wait_posted(self, row_id: int) -> None:
        """For callers that must know a reply is out (tests, the CLI)."""
        await self._posted.setdefault(row_id, asyncio.Event()).wait()

    async def _send(self, row: OutboxMessage, *, crashed_before: bool) -> None:
        assert row.id is not None
        try:
            if crashed_before and (ts := await self._already_posted(row)) is not None:
                await self._done(row, ts, "recovered")
                return
            if row.kind == "post":  # Slack's ~1/s per channel is a chat.postMessage limit
                await self._pace(row.channel)
            ts = await self._post(row)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown"))
            if error in PERMANENT:
                await self.store.outbox.mark_failed(row.id, error)
                self.metrics.posts.labels("failed").inc()
                log.error("outbox.failed", outbox_id=row.id, channel=row.channel, error=error)
            else:
                await self.store.outbox.release(row.id, error)
                self.metrics.posts.labels("retry").inc()
            return
        except OSError as exc:
            await self.store.outbox.release(row.id, f"network: {exc}")
            self.metrics.posts.labels("retry").inc()
            return
        await self._done(row, ts, "posted")

    async def _done(self, row: OutboxMessage, ts: str | None, result: str) -> None:
        assert row.id is not None
        await self.store.outbox.mark_posted(row.id, ts)
        self.metrics.posts.labels(result).inc()
        if self.on_posted is not None and ts:
            await self.on_posted(row, ts)
        self._posted.setdefault(row.id, asyncio.Event()).set()

    async def _pace(self, channel: str) -> None:
        now = self.clock()
        slot = max(now, self._next_slot.get(channel, now))
        self._next_slot[channel] = slot + self.pace
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _post(self, row: OutboxMessage) -> str | None:
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"outbox_id": row.id}}
        common: dict[str, Any] = {"channel": row.channel, "text": row.text}
        if row.blocks is not None:
            common["blocks"] = row.blocks
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

    async def _already_posted(self, row: OutboxMessage) -> str | None:
        if row.kind != "post":
            return None
        ts = row.thread_ts or ""
        if not ts:
            return None
        replies = await self.client.conversations_replies(
            channel=row.channel, ts=ts, include_all_metadata=True, limit=200
        )
        for message in replies.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == row.id:
                return str(message.get("ts"))
        return None
