"""The thread's loading status while a turn runs ("Switchboard is checking invoice INV-1024…").

`assistant.threads.setStatus` shows it under the thread from before the first model call until
the reply starts; Slack takes it with `chat:write` in channel threads too (since March 2026),
and clears it when the bot replies. Where a workspace refuses it (an older plan, a missing
scope, a DM without a thread), the message gets the :eyes: reaction instead, as before. It is
cosmetic: a failure never holds a turn up for long or fails it.
"""

from __future__ import annotations

import asyncio

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.failures import describe_failure
from bot.slack.turns import reply_thread
from router.turn import Turn

log = structlog.stdlib.get_logger(__name__)

WORKING = "eyes"
LIMIT = 2.0  # seconds: a status is not worth more of the turn's time than this


class ThreadStatus:
    """One turn's status line, or its :eyes: reaction where the status is refused."""

    def __init__(self, client: AsyncWebClient, turn: Turn) -> None:
        self.client = client
        self.turn = turn
        self.thread_ts = reply_thread(turn) or turn.ts  # a top-level DM: the message answered
        self.refused = False
        self.shown = ""
        self._reacted = False

    async def show(self, words: str) -> None:
        """Say what the bot is doing now. The first refusal switches to the reaction."""
        if self.refused or words == self.shown:
            return
        try:
            async with asyncio.timeout(LIMIT):
                await self.client.assistant_threads_setStatus(
                    channel_id=self.turn.channel, thread_ts=self.thread_ts, status=words
                )
        except Exception as exc:  # any failure of Slack's: a refusal, a reset, an HTML page
            log.info("turn.status_refused", error=describe_failure(exc).code)
            if not self.shown:
                self.refused = True
                await self._react(add=True)
            return
        self.shown = words

    async def clear(self) -> None:
        """The turn is done: the status goes (Slack also clears it when the bot replies)."""
        if self._reacted:
            await self._react(add=False)
        elif self.shown:
            self.shown = ""
            try:
                async with asyncio.timeout(LIMIT):
                    await self.client.assistant_threads_setStatus(
                        channel_id=self.turn.channel, thread_ts=self.thread_ts, status=""
                    )
            except Exception as exc:
                log.info("turn.status_not_cleared", error=describe_failure(exc).code)

    async def _react(self, *, add: bool) -> None:
        method = self.client.reactions_add if add else self.client.reactions_remove
        try:
            async with asyncio.timeout(LIMIT):
                await method(channel=self.turn.channel, timestamp=self.turn.ts, name=WORKING)
        except Exception as exc:
            log.info("turn.reaction_failed", error=describe_failure(exc).code)
            return
        self._reacted = add
