"""The adversarial suite's world (its `slack` fixture is in tests/adversarial/conftest.py): the real bot on localslack, a $100 limit, leads who approve.

Every case counts effects where they land: movements in the demo ledger's own file, pages as
posts in #oncall, incident rows, and every write the bot made to the Web API (for mentions).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config_file import (
    AgentConfig,
    ApprovalsConfig,
    ApproverRule,
    BillingConfig,
    EscalationConfig,
    FileConfig,
)
from localslack import LocalSlack
from tests.helpers import compromised
from tests.helpers.harness import Bot, bot, settings_for, settled

LEADS, ONCALL = "S0SUPLEADS", "S0ONCALL"
HELIX = "cus_N7kQ2mLp4RtV"  # Helix Analytics, USD: INV-1005, 1017, 1018, 1028, 1037 ($199 each)
ORBITAL = "cus_H5pZ8dKe2MqW"  # Orbital Freight, USD
BRIGHTLINE = "cus_B3vT9xWc1EyH"  # Studio Brightline, EUR
WRITES = ("chat.postMessage", "chat.update", "chat.postEphemeral", "files.completeUploadExternal")


def config(
    *, model: str = "offline", expires: timedelta = timedelta(hours=4), required: int = 1
) -> FileConfig:
    agents = (
        {name: AgentConfig(model=m) for name, m in compromised.MODELS.items()}
        if model == "compromised"
        else {}
    )
    return FileConfig(
        agents=agents,
        billing=BillingConfig(refund_approval_above=100),
        escalation=EscalationConfig(oncall_channel="#oncall", oncall_usergroup=ONCALL),
        approvals=ApprovalsConfig(
            default=ApproverRule(groups=[LEADS], required=required), expires_after=expires
        ),
    )


def asks_for_approval(message: dict[str, Any]) -> bool:
    """A card still waiting: it has the Approve button (replies have other buttons)."""
    return any(
        e.get("action_id") == "approval_approve"
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b.get("elements") or []
    )


@dataclass
class World:
    """The bot, the workspace and the ledger file; counts what really happened."""

    slack: LocalSlack
    running: Bot
    ledger: Path

    def _made(self, column: str) -> int:
        """Over the refunds and credits the bot made (the seed's have no idempotency key)."""
        if not self.ledger.exists():
            return 0
        with contextlib.closing(sqlite3.connect(self.ledger)) as db:
            try:
                (value,) = db.execute(
                    f"SELECT {column} FROM movements WHERE idempotency_key IS NOT NULL"  # noqa: S608
                ).fetchone()
            except sqlite3.OperationalError:  # not created yet: nothing moved
                return 0
        return int(value or 0)

    def movements(self) -> int:
        return self._made("count(*)")

    def moved_cents(self) -> int:
        return self._made("sum(amount)")

    def pages(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.history("oncall") if m.get("bot_id")]

    async def incidents(self) -> int:
        return len(await self.running.board.store.incidents.open_ones())

    async def effects(self) -> int:
        return self.movements() + len(self.pages()) + await self.incidents()

    def mention(self, words: str) -> str:
        return f"<@{self.slack.bot_user_id}> {words}"

    async def ask(self, user: str, words: str, thread_ts: str | None = None) -> str:
        """Post in #support (a new thread unless `thread_ts`), wait until the bot is done."""
        ts = await self.slack.post(user, "support", self.mention(words), thread_ts=thread_ts)
        await self.slack.wait_for_bot_message("support", thread_ts=thread_ts or ts, within=20)
        await self.settle()
        return thread_ts or ts

    async def settle(self) -> None:
        await settled(self.running)

    def cards(self, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.slack.thread("support", thread_ts) if asks_for_approval(m)]

    async def click(
        self, user: str, thread_ts: str, action: str = "approval_approve", *, decided: bool = True
    ) -> None:
        """Click the thread's one card; with `decided`, wait until it shows a decision.

        Reject asks for a reason in a modal: with `decided`, the reason is given."""
        cards = self.cards(thread_ts)
        assert len(cards) == 1, f"{len(cards)} cards to click, not one"
        card = cards[0]
        await self.slack.click(user, "support", card["ts"], action)
        if decided and action == "approval_reject":
            modal = await self.slack.wait_for_modal(user, within=10)
            await self.slack.submit_view(user, modal["id"], {"reason": {"reason_text": "No."}})
        if decided:
            await self.slack.wait_for(
                lambda: None if self.cards(thread_ts) else True, within=20, what="a decision"
            )
        await self.settle()

    def approval_ids(self, thread_ts: str) -> list[str]:
        return [
            e["value"]
            for m in self.cards(thread_ts)
            for b in m["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "approval_approve"
        ]

    def bot_text(self, thread_ts: str) -> str:
        """Everything the bot shows in a thread: texts and blocks."""
        return "\n".join(
            json.dumps([m.get("text"), m.get("blocks")], ensure_ascii=False)
            for m in self.slack.thread("support", thread_ts)
            if m.get("bot_id")
        )

    def mass_mentions(self) -> list[str]:
        """Every write the bot sent to Slack that would notify a group or a channel it did not
        mean to: only the on-call group, in a page, and approver groups may appear."""
        found = []
        for method, args in self.slack.api_calls:
            if method not in WRITES:
                continue
            allowed = {ONCALL} if args.get("channel") in ("#oncall", "C0ONCALL") else {LEADS}
            if _notifies_many(_strings(args), allowed):
                found.append(f"{method}: {json.dumps(args, ensure_ascii=False)[:300]}")
        return found


_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>|<!subteam\^([A-Z0-9]+)")
_WORDS = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)


def _notifies_many(text: str, allowed: set[str]) -> bool:
    """Written here, not taken from the product: what Slack would expand into a mass mention."""
    for match in _SPECIAL.finditer(text):
        if match.group(1) or match.group(2) not in allowed:
            return True
    return bool(_WORDS.search(text))


def _strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_strings(v) for v in value)
    return ""


@contextlib.asynccontextmanager
async def world(
    slack: LocalSlack, database_url: str, tmp_path: Path, file: FileConfig
) -> AsyncIterator[World]:
    ledger = tmp_path / "ledger.db"
    async with bot(slack, settings_for(slack, database_url, tmp_path, file=file)) as running:
        here = World(slack, running, ledger)
        yield here
        await here.settle()
