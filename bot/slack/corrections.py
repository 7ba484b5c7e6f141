"""The "Wrong specialist?" control: a correction from a person, re-run and remembered.

Every specialist's reply carries one small button. Whoever clicks it and may correct routes
(`router.correctors`, by default the approvers) gets a private choice of the other
specialists; anyone else gets a private explanation. Picking one records the correction once
(a unique key per reply: a double click re-runs nothing twice), the chosen specialist answers
the same question in the thread, and the router learns the text with its right route at its
next training (start-up, or `switchboard router retrain`).

Like approval buttons, the buttons carry only ids: what is re-run is read back from the
database, never from the click.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.async_app import AsyncAck
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from agents.routes import ROUTES
from bot.approvals.approvers import GroupMembers, describe
from bot.slack.outbox import Sender
from bot.slack.render import BLOCK_LIMIT, reply_messages
from bot.slack.turns import DM_THREAD
from storage.outbox import Outgoing
from storage.store import Store

if TYPE_CHECKING:  # the supervisor loads the agents and litellm: not needed to read an action id
    from router.supervisor import Supervisor

log = structlog.stdlib.get_logger(__name__)

OPEN = "route_correct_open"
PICK = re.compile(r"^route_correct:(\w+)$")
LABELS = {
    "billing": "Billing",
    "technical": "Technical",
    "escalation": "Escalation (a person)",
    "triage": "Triage",
}

Messages = list[tuple[str, list[dict[str, Any]]]]


def control(message_id: int) -> dict[str, Any]:
    """The small button under a reply; its value is the reply's message id."""
    button = ButtonElement(
        text=PlainTextObject(text="Wrong specialist?"), action_id=OPEN, value=str(message_id)
    )
    return ActionsBlock(block_id=f"correct:{message_id}", elements=[button]).to_dict()


def is_answer(blocks: list[dict[str, Any]] | None) -> bool:
    """A specialist's answer: it carries the control (clarifying questions and holding replies
    do not, since no specialist was chosen for them)."""
    return any(str(b.get("block_id", "")).startswith("correct:") for b in blocks or [])


def with_control(messages: Messages, message_id: int) -> Messages:
    """The reply's messages with the control under the last one (when it has room)."""
    text, blocks = messages[-1]
    if len(blocks) >= BLOCK_LIMIT:
        return messages
    return [*messages[:-1], (text, [*blocks, control(message_id)])]


def choices(message_id: int, answered_by: str) -> list[dict[str, Any]]:
    """The private choice: every specialist but the one that answered."""
    buttons = [
        ButtonElement(
            text=PlainTextObject(text=LABELS[route]),
            action_id=f"route_correct:{route}",
            value=str(message_id),
        )
        for route in ROUTES
        if route != answered_by
    ]
    question = f"Which specialist should have answered? *{answered_by.title()}* did."
    return [
        SectionBlock(text=MarkdownTextObject(text=question)).to_dict(),
        ActionsBlock(block_id=f"correct_pick:{message_id}", elements=buttons).to_dict(),
    ]


def corrected_context(agent: str, user: str, was: str) -> str:
    return f"Answered by *{agent.title()}* · <@{user}> corrected the route (was {was.title()})"


class CorrectionDesk:
    def __init__(
        self,
        store: Store,
        supervisor: Supervisor,
        sender: Sender,
        groups: GroupMembers,
        correctors: Sequence[str],
    ) -> None:
        self.store = store
        self.supervisor = supervisor
        self.sender = sender
        self.groups = groups
        self.correctors = list(correctors)

    async def opened(self, message_id: int, user: str, click: str) -> str:
        """The button was clicked: offer the choice, or say who may correct."""
        answer = await self.store.memory.message(message_id)
        thread = await self.store.memory.get_thread(answer.thread_id) if answer else None
        if answer is None or thread is None:
            return "That reply no longer exists."
        where = (thread.channel, _thread(thread.thread_ts))
        refusal = await self._refusal(user)
        if refusal is not None:
            await self._tell(where, user, refusal, f"{message_id}:{click}")
            return refusal
        done = await self.store.corrections.for_message(message_id)
        if done is not None:
            text = f"<@{done.corrected_by}> already moved this to {done.to_route.title()}."
            await self._tell(where, user, text, f"{message_id}:{click}")
            return text
        agent = answer.agent or "triage"
        await self._tell(
            where,
            user,
            f"Which specialist should have answered? {agent.title()} did.",
            f"{message_id}:{click}",
            choices(message_id, agent),
        )
        return "choice offered"

    async def picked(self, message_id: int, route: str, user: str, click: str) -> str:
        """A specialist was chosen: record, re-run in the thread, confirm privately."""
        answer = await self.store.memory.message(message_id)
        thread = await self.store.memory.get_thread(answer.thread_id) if answer else None
        if answer is None or thread is None or route not in ROUTES:
            return "That reply no longer exists."
        where = (thread.channel, _thread(thread.thread_ts))
        refusal = await self._refusal(user)
        if refusal is not None:
            await self._tell(where, user, refusal, f"{message_id}:{click}")
            return refusal
        reply = await self.supervisor.correct(message_id, route, user)
        if reply is None:
            text = "Someone corrected this reply already."
            await self._tell(where, user, text, f"{message_id}:{click}")
            return text
        context = corrected_context(reply.agent, user, answer.agent or "triage")
        messages = reply_messages(reply.text, context)
        if reply.message_id is not None:
            messages = with_control(messages, reply.message_id)
        await self.store.outbox.enqueue_many(
            [
                Outgoing(
                    dedupe_key=f"correction:{message_id}:{i}",
                    channel=where[0],
                    text=text,
                    blocks=blocks,
                    thread_ts=where[1],
                )
                for i, (text, blocks) in enumerate(messages)
            ]
        )
        thanks = (
            f"Thanks: {route.title()} has answered in the thread, and the router will learn "
            "from this at its next training."
        )
        await self._tell(where, user, thanks, f"{message_id}:done")
        log.info("route.corrected", message=message_id, to=route, by=user)
        return thanks

    async def _refusal(self, user: str) -> str | None:
        if await self.groups.allowed(user, self.correctors):
            return None
        return f"Only {describe(self.correctors)} can correct routes (setting router.correctors)."

    async def _tell(
        self,
        where: tuple[str, str | None],
        user: str,
        text: str,
        key: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        await self.store.outbox.enqueue(
            Outgoing(
                dedupe_key=f"eph:correct:{key}:{user}",
                channel=where[0],
                text=text,
                blocks=blocks,
                thread_ts=where[1],
                kind="ephemeral",
                user_id=user,
            )
        )
        self.sender.notify()


def _thread(thread_ts: str) -> str | None:
    return None if thread_ts == DM_THREAD else thread_ts


def on_correction(desk: CorrectionDesk) -> Callable[..., Awaitable[None]]:
    """A Bolt action listener for "Wrong specialist?" and the choice that follows it."""

    async def listener(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body["user"]["id"])
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        message_id = int(str(action.get("value") or "0"))
        picked = PICK.match(str(action.get("action_id") or ""))
        if picked is None:
            await desk.opened(message_id, user, click)
        else:
            await desk.picked(message_id, picked.group(1), user, click)

    return listener
