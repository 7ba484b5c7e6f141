"""The Slack surfaces beyond message threads, in one place: what each listens to, and the one
signal they share (a message went out).

- the App Home tab (`bot/home.py`): `app_home_opened`, its Approve button;
- the assistant panel (`bot/assistant.py`): `assistant_thread_started`;
- the "Ask Switchboard" message shortcut (`bot/shortcuts.py`);
- reasons for rejections (`bot/reasons.py`): the Reject button of cards and of the Home tab,
  and the reason modal's submission.

What the Home tab and an assistant thread's title show changes only when something is posted
(a reply, a card, a decision's update), so the sender's "posted" callback drives both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import REJECT
from bot.config_file import DigestConfig
from bot.home_view import HOME_APPROVE
from bot.metrics import Metrics
from bot.pending import Pending, deferred
from bot.reasons import REASON_VIEW
from bot.shortcuts import ASK_SWITCHBOARD
from storage.store import Store
from storage.tables import OutboxMessage

if TYPE_CHECKING:  # these load the supervisor and litellm; the listeners are added before
    from agents.agent import Agent
    from bot.approvals import ApprovalDesk
    from bot.worker import Worker


def register(app: AsyncApp, loaded: Pending[Surfaces]) -> None:
    """Add the listeners to the Bolt app (before its catch-alls, which would match first).

    They are added when the process starts and wait for the surfaces, which need the agents.
    """
    app.event("app_home_opened")(deferred(loaded, lambda s: s.home.on_opened))
    app.event("assistant_thread_started")(deferred(loaded, lambda s: s.assistant.on_started))
    app.action(HOME_APPROVE)(deferred(loaded, lambda s: s.home.on_approve))
    app.action(REJECT)(deferred(loaded, lambda s: s.reasons.on_reject))
    app.view(REASON_VIEW)(deferred(loaded, lambda s: s.reasons.on_submit))
    app.shortcut({"type": "message_action", "callback_id": ASK_SWITCHBOARD})(
        deferred(loaded, lambda s: s.shortcut)
    )


class Surfaces:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        desk: ApprovalDesk,
        worker: Worker,
        metrics: Metrics,
        agents: Mapping[str, Agent],
        digests: list[DigestConfig],
    ) -> None:
        from bot.assistant import AssistantThreads
        from bot.home import Home
        from bot.reasons import Reasons
        from bot.shortcuts import AskShortcut

        self.home = Home(store, client, desk, digests)
        self.assistant = AssistantThreads(store, client, agents)
        self.shortcut = AskShortcut(store, worker, client, metrics)
        self.reasons = Reasons(desk, client, self.home.publish)

    async def posted(self, row: OutboxMessage, ts: str) -> None:
        """The sender posted or updated a message: titles and Home tabs may be out of date."""
        await self.assistant.posted(row)
        self.home.changed()

    async def stop(self) -> None:
        await self.home.stop()
