"""The Slack surfaces beyond message threads, in one place: what each listens to, and the one
signal they share (a message went out).

- the App Home tab (`bot/surfaces/home.py`): `app_home_opened`, its Approve button;
- the assistant panel (`bot/surfaces/assistant.py`): `assistant_thread_started`;
- the "Ask Switchboard" message shortcut (`bot/surfaces/shortcuts.py`);
- reasons for rejections (`bot/approvals/reasons.py`): the Reject button of cards and of the
  Home tab, and the reason modal's submission.

What the Home tab and an assistant thread's title show changes only when something is posted
(a reply, a card, a decision's update), so the sender's "posted" callback drives both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.cards import REJECT
from bot.approvals.reasons import REASON_VIEW
from bot.config_file import DigestConfig
from bot.metrics import Metrics
from bot.slack.pending import Pending, deferred
from bot.surfaces.home_view import HOME_APPROVE
from bot.surfaces.shortcuts import ASK_SWITCHBOARD
from storage.store import Store
from storage.tables import OutboxMessage

if TYPE_CHECKING:  # these load the supervisor and litellm; the listeners are added before
    from agents.agent import Agent
    from bot.approvals.desk import ApprovalDesk
    from bot.slack.worker import Worker


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
        from bot.approvals.reasons import Reasons
        from bot.surfaces.assistant import AssistantPanel
        from bot.surfaces.home import Home
        from bot.surfaces.shortcuts import AskShortcut

        self.home = Home(store, client, desk, digests)
        self.assistant = AssistantPanel(store, client, agents)
        self.shortcut = AskShortcut(store, worker, client, metrics)
        self.reasons = Reasons(desk, client, self.home.publish)

    async def posted(self, row: OutboxMessage, ts: str) -> None:
        """The sender posted or updated a message: titles and Home tabs may be out of date."""
        await self.assistant.posted(row)
        self.home.changed()

    async def stop(self) -> None:
        await self.home.stop()
