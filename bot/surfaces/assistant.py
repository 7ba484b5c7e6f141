"""The assistant panel (Slack's split view): suggested prompts, a title, the same router.

When someone opens the panel, Slack starts a thread in their DM with the bot and says so
(`assistant_thread_started`); the bot records the thread and offers suggested prompts, one from
each configured specialist that has one. Messages in the thread are ordinary DM messages in a
thread, so intake, the worker, the router and the thread's memory handle them as any other;
nothing here answers them. Once a specialist the router chose has answered (not a clarifying
question), the topic is known, and the thread gets its title: the specialist and the first
question, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.agent import Agent
from agents.routes import ROUTES, is_route
from bot.slack.corrections import is_answer
from bot.slack.render import escape
from storage.store import Store
from storage.tables import OutboxMessage

log = structlog.stdlib.get_logger(__name__)

PROMPTS_TITLE = "Try asking"
TITLE_LENGTH = 60


def suggested_prompts(agents: Mapping[str, Agent]) -> list[dict[str, str]]:
    """One prompt per configured specialist that offers one (Slack shows up to four)."""
    ordered = sorted(agents.values(), key=lambda a: ROUTES.index(a.name) if is_route(a.name) else 9)
    prompts = [
        {"title": escape(a.suggestion.title), "message": escape(a.suggestion.message)}
        for a in ordered
        if a.suggestion is not None
    ]
    return prompts[:4]


def thread_title(route: str, question: str) -> str:
    """The specialist and the question, short: "Billing · Why was invoice INV-1024 charged…"."""
    words = " ".join(question.split())
    if len(words) > TITLE_LENGTH:
        words = words[: TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return escape(f"{route.title()} · {words}" if route else words)


class AssistantPanel:
    def __init__(self, store: Store, client: AsyncWebClient, agents: Mapping[str, Agent]) -> None:
        self.store = store
        self.client = client
        self.prompts = suggested_prompts(agents)

    async def on_started(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """assistant_thread_started: record the thread, offer the prompts (once per thread)."""
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = str(thread.get("channel_id")), str(thread.get("thread_ts"))
        new = await self.store.assistant_threads.started(
            team_id=str(body.get("team_id") or ""),
            channel=channel,
            thread_ts=thread_ts,
            user_id=str(thread.get("user_id") or ""),
            context=(thread.get("context") or {}).get("channel_id"),
        )
        if not new or not self.prompts:
            return
        try:
            await self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=thread_ts, prompts=self.prompts, title=PROMPTS_TITLE
            )
        except (SlackApiError, OSError) as exc:
            log.warning("assistant.prompts_failed", error=type(exc).__name__)

    async def posted(self, row: OutboxMessage) -> None:
        """A specialist's answer went out in an assistant thread without a title: title it with
        that specialist (the thread's current one) and the thread's first question."""
        if row.kind != "post" or not row.thread_ts or not row.channel.startswith("D"):
            return
        if not is_answer(row.blocks):
            return  # a clarifying question: the topic is not known yet
        thread = await self.store.assistant_threads.get(row.channel, row.thread_ts)
        if thread is None or thread.titled_at is not None:
            return
        memory = await self.store.memory.find_thread(thread.team_id, row.channel, row.thread_ts)
        if memory is None or memory.id is None:
            return
        asked = [m for m in await self.store.memory.messages(memory.id) if m.role == "user"]
        if not asked:
            return
        title = thread_title(memory.agent or "", asked[0].text)
        if not await self.store.assistant_threads.claim_title(row.channel, row.thread_ts, title):
            return
        try:
            await self.client.assistant_threads_setTitle(
                channel_id=row.channel, thread_ts=row.thread_ts, title=title
            )
        except (SlackApiError, OSError) as exc:
            log.warning("assistant.title_failed", error=type(exc).__name__)
