"""A reply written into its thread as the model writes it: chat.startStream, appendStream,
stopStream, within Slack's limits, and never twice.

What arrives here was vetted sentence by sentence (`agents.reply_stream`); each chunk is made
safe for Slack (`bot.slack.render.safe_mrkdwn`) on its way out. The first text starts the stream at
once; later text is buffered and appended at most once a second (appendStream is a Tier 4
method, about 100 calls a minute for the whole workspace), in pieces of at most 12,000
characters (Slack's limit per call). In a channel Slack wants to know who is being answered
(`recipient_team_id`, `recipient_user_id`). A workspace that refuses streams (`unknown_method`
and the like), and a top-level DM (streams are thread replies), get one chat.postMessage and
then chat.update of that message as text arrives.

Exactly once: before the stream starts, the reply's outbox row is reserved (`streaming`), and
Slack's ts is recorded as soon as it is known. When the turn is done, `finish` ends the stream
with what only the end knows (notes, pending approvals) and the context line and buttons as
blocks, tags it with the row's id, and settles the row as posted, together with the cards that
follow. If anything went wrong (Slack failed mid-stream, the text shown is not how the reply
begins), the row is settled as a `replace`: the outbox stops the streamed message and updates it
to the whole reply. A crash leaves the row `streaming`; the turn runs again and settles it so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.tracing import traceparent
from bot.slack.failures import describe_failure
from bot.slack.outbox import METADATA_TYPE
from bot.slack.render import safe_mrkdwn
from bot.slack.status import ThreadStatus
from bot.slack.tracing import web_call
from bot.slack.turns import reply_thread
from router.turn import Reply, Turn
from storage.outbox import Outbox, Outgoing

log = structlog.stdlib.get_logger(__name__)

APPEND_EVERY = 1.0  # seconds between two writes to one stream
MAX_CHUNK = 12_000  # characters of markdown_text Slack takes in one call
# Answers that mean "this workspace does not stream here": post and update instead.
REFUSED = frozenset(
    {
        "unknown_method",
        "method_deprecated",
        "deprecated_endpoint",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
        "access_denied",
        "channel_type_not_supported",
        "feature_not_enabled",
        "missing_recipient_team_id",
        "missing_recipient_user_id",
        "invalid_arguments",
        "restricted_action",
    }
)

Mode = Literal["stream", "update"]
CUT_SHORT = "_(This answer was cut short.)_"


class SlackStream:
    """One turn's reply, streamed. The agents' `ReplySink`: status words and vetted text."""

    def __init__(
        self,
        client: AsyncWebClient,
        outbox: Outbox,
        turn: Turn,
        key: str,
        status: ThreadStatus,
        *,
        live: bool = True,
        every: float = APPEND_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.turn = turn
        self.key = key
        self.status_line = status
        self.live = live  # False: only keep what the reply streamed (a re-run after a crash)
        self.every = every
        self.clock = clock
        self.thread_ts = reply_thread(turn)
        self.row_id: int | None = None
        self.ts: str | None = None
        self.mode: Mode | None = None
        self.broken = False  # Slack failed: stop writing, the reply replaces the message
        self.received = ""  # all the text handed to us
        self.sent = ""  # the part of it Slack has
        self._buffer = ""
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._last = 0.0
        self._trace = traceparent()  # the turn's: the stream's Web API calls join its trace

    # ----- the ReplySink -------------------------------------------------------------------
    async def status(self, words: str) -> None:
        if self._task is None:  # once the reply shows, it is its own progress
            await self.status_line.show(words)

    async def text(self, chunk: str) -> None:
        self.received += chunk
        if not self.live:
            return
        self._buffer += chunk
        if self._task is None:
            self._task = asyncio.create_task(self._write())
        self._wake.set()

    # ----- writing -------------------------------------------------------------------------
    async def _write(self) -> None:
        try:
            await self._open()
            while not self.broken:
                if self._closing:
                    return  # what is left goes out with the end of the stream
                if not self._buffer:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                wait = self._last + self.every - self.clock()
                if wait > 0:
                    try:
                        async with asyncio.timeout(wait):
                            while not self._closing:
                                self._wake.clear()
                                await self._wake.wait()
                    except TimeoutError:
                        pass
                    continue
                chunk, self._buffer = self._buffer[:MAX_CHUNK], self._buffer[MAX_CHUNK:]
                await self._append(chunk)
        except Exception as exc:  # Slack failed (or the database): the outbox ends it
            self.broken = True
            log.warning("reply.stream_failed", error=describe_failure(exc).code)

    async def _open(self) -> None:
        self.row_id = await self.outbox.reserve_stream(self.key, self.turn.channel, self.thread_ts)
        if self.row_id is None:
            raise RuntimeError("another run of this turn holds its reply")
        chunk, self._buffer = self._buffer[:MAX_CHUNK], self._buffer[MAX_CHUNK:]
        response = None
        if self.thread_ts is not None:
            response = await self._start(chunk)
        if response is None:
            self.mode = "update"
            with self._traced("chat.postMessage"):
                response = await self.client.chat_postMessage(
                    channel=self.turn.channel,
                    thread_ts=self.thread_ts,
                    text=safe_mrkdwn(chunk),
                    metadata=self._metadata(),
                    unfurl_links=False,
                )
        self.ts = str(response["ts"])
        self.sent = chunk
        self._last = self.clock()
        await self.outbox.stream_started(self.row_id, self.ts)

    async def _start(self, chunk: str) -> Any:
        """chat.startStream, or None where the workspace does not stream."""
        dm = self.turn.channel.startswith("D")  # in a channel, Slack wants who is answered
        try:
            with self._traced("chat.startStream"):
                response = await self.client.chat_startStream(
                    channel=self.turn.channel,
                    thread_ts=self.thread_ts or "",
                    markdown_text=safe_mrkdwn(chunk),
                    recipient_team_id=None if dm else self.turn.team_id,
                    recipient_user_id=None if dm else self.turn.user_id,
                )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error not in REFUSED:
                raise
            log.info("reply.stream_refused", error=error)
            return None
        self.mode = "stream"
        return response

    async def _append(self, chunk: str) -> None:
        assert self.ts is not None
        if self.mode == "stream":
            with self._traced("chat.appendStream"):
                await self.client.chat_appendStream(
                    channel=self.turn.channel, ts=self.ts, markdown_text=safe_mrkdwn(chunk)
                )
        else:
            with self._traced("chat.update"):
                await self.client.chat_update(
                    channel=self.turn.channel, ts=self.ts, text=safe_mrkdwn(self.sent + chunk)
                )
        self.sent += chunk
        self._last = self.clock()

    def _metadata(self) -> dict[str, Any]:
        return {"event_type": METADATA_TYPE, "event_payload": {"outbox_id": self.row_id}}

    def _traced(self, method: str) -> AbstractContextManager[None]:
        return web_call(method, self.turn.channel, self.thread_ts, self._trace)

    # ----- the end -------------------------------------------------------------------------
    async def finish(self, reply: Reply, rendered: list[Outgoing], then: list[Outgoing]) -> bool:
        """End the stream as the reply (`rendered`, its messages) and queue `then` (cards).

        False when nothing was streamed: the caller queues every message as usual.
        """
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.row_id is None:
            return False
        first, rest = rendered[0], [*rendered[1:], *then]
        tail = _tail(reply, self.received) if len(rendered) == 1 else None
        if not self.broken and tail is not None and self.ts is not None:
            try:
                await self._stop(first, self._buffer + tail)
            except Exception as exc:
                log.warning("reply.stream_not_stopped", error=describe_failure(exc).code)
            else:
                await self.outbox.settle(self.row_id, first, posted_ts=self.ts, then=rest)
                return True
        await settle_replacing(self.outbox, self.row_id, self.ts, [first, *rest])
        return True

    async def cut_short(self) -> None:
        """The turn failed after part of its reply was shown: it ends with what was shown and
        says so (the failure message follows it)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.row_id is None:
            return
        text = safe_mrkdwn(f"{self.received.strip()}\n\n{CUT_SHORT}")
        reply = Outgoing(
            dedupe_key=self.key, channel=self.turn.channel, text=text, thread_ts=self.thread_ts
        )
        await settle_replacing(self.outbox, self.row_id, self.ts, [reply])

    async def _stop(self, first: Outgoing, more: str) -> None:
        assert self.ts is not None
        blocks = [b for b in first.blocks or [] if b.get("type") != "section"]
        if self.mode == "stream" and len(more) <= MAX_CHUNK:
            with self._traced("chat.stopStream"):
                await self.client.chat_stopStream(
                    channel=self.turn.channel,
                    ts=self.ts,
                    markdown_text=safe_mrkdwn(more) if more.strip() else None,
                    blocks=blocks or None,
                    metadata=self._metadata(),
                )
        else:  # posted and updated: the last update makes it the whole reply
            with self._traced("chat.update"):
                await self.client.chat_update(
                    channel=self.turn.channel,
                    ts=self.ts,
                    text=first.text,
                    blocks=first.blocks,
                    metadata=self._metadata(),
                )


def _tail(reply: Reply, received: str) -> str | None:
    """What follows the streamed text in the reply; None when the reply does not begin with it
    (a holding reply after a deadline, a reply longer than one message)."""
    shown = received.strip()
    if not reply.streamed or reply.streamed != shown or not reply.text.startswith(shown):
        return None
    return reply.text[len(shown) :]


async def settle_replacing(
    outbox: Outbox, row_id: int, target_ts: str | None, messages: list[Outgoing]
) -> None:
    """The reply (`messages[0]`) replaces the streamed message, whatever it shows; the rest
    (more of the reply, cards) follow. Also how a turn re-run after a crash mid-stream ends."""
    first = messages[0]
    replacement = Outgoing(
        dedupe_key=first.dedupe_key,
        channel=first.channel,
        text=first.text,
        blocks=first.blocks,
        thread_ts=first.thread_ts,
        kind="replace",
        target_ts=target_ts,
    )
    await outbox.settle(row_id, replacement, then=messages[1:])
