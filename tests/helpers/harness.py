"""Switchboard end to end: the real runtime and Bolt app against localslack, over real sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy import update
from sqlmodel import col

from bot.config_file import ApprovalsConfig, ApproverRule, FileConfig
from bot.doors.demo_ledger import DemoLedger
from bot.runtime import Switchboard, running, serve_http
from bot.settings import EnvSettings, Settings
from localslack import LocalSlack
from storage.columns import utcnow
from storage.tables import Approval

LEADS = "S0SUPLEADS"


def settings_for(
    slack: LocalSlack, database_url: str, tmp_path: Path, *, file: FileConfig | None = None
) -> Settings:
    env = EnvSettings(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=slack.signing_secret,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        SWITCHBOARD_DEMO_LEDGER=str(tmp_path / "ledger.db"),
    )
    config = file or FileConfig(approvals=ApprovalsConfig(default=ApproverRule(groups=[LEADS])))
    return Settings(env=env, file=config, config_path=None)


@dataclass
class Bot:
    board: Switchboard
    events_url: str


@contextlib.asynccontextmanager
async def bot(
    slack: LocalSlack,
    settings: Settings,
    *,
    socket: bool = False,
    lease: timedelta = timedelta(seconds=30),
    post_lease: timedelta = timedelta(seconds=60),
    max_post_backoff: float = 8.0,
) -> AsyncIterator[Bot]:
    async with running(
        settings,
        upgrade_database=True,
        socket_mode=socket,
        lease=lease,
        post_interval=0.0,
        post_lease=post_lease,
        max_post_backoff=max_post_backoff,
    ) as board:
        if socket:
            slack.use_socket_mode()
            handler = AsyncSocketModeHandler(board.app, slack.app_token)
            board.readiness.socket_connected = handler.client.is_connected
            await handler.connect_async()
            try:
                yield Bot(board, "")
            finally:
                await handler.close_async()
            return
        runner, port = await serve_http(board, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}/slack/events"
        await slack.use_http(url)
        try:
            yield Bot(board, url)
        finally:
            await runner.cleanup()


async def settled(bot: Bot) -> None:
    """Every queued turn finished and every outbox row sent."""
    await bot.board.worker.wait_idle()
    await bot.board.sender.drain()


def bot_messages(slack: LocalSlack, channel: str, thread_ts: str) -> list[dict[str, object]]:
    return [m for m in slack.thread(channel, thread_ts) if m.get("bot_id")]


# ----- approvals, as a person in the channel sees them -----
REFUND = "Please refund the double charge on INV-1018"


def mention(slack: LocalSlack, words: str) -> str:
    return f"<@{slack.bot_user_id}> {words}"


def has_buttons(message: dict[str, Any]) -> bool:
    """An approval card still waiting: it has Approve and Reject (replies have other buttons)."""
    return any(
        str(b.get("block_id", "")).startswith("approval:") for b in message.get("blocks") or []
    )


async def ask_for_refund(
    slack: LocalSlack, user: str = "bob", words: str = REFUND
) -> tuple[str, dict[str, Any], str]:
    """Post the request; return the thread ts, the card message and the approval id."""
    ts = await slack.post(user, "support", mention(slack, words))
    card = await slack.wait_for_bot_message(
        "support", thread_ts=ts, within=20, predicate=has_buttons
    )
    approval_id = next(
        e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    return ts, card, approval_id


async def card_decided(slack: LocalSlack, ts: str, card_ts: str) -> dict[str, Any]:
    def decided() -> dict[str, Any] | None:
        card = next((m for m in slack.thread("support", ts) if m["ts"] == card_ts), None)
        return card if card is not None and not has_buttons(card) else None

    result: dict[str, Any] = await slack.wait_for(decided, within=20, what="the card to be decided")
    return result


async def refunds(tmp_path: Path, approval_id: str) -> int:
    ledger = DemoLedger(tmp_path / "ledger.db")
    try:
        return 1 if await ledger.movement_for(approval_id) is not None else 0
    finally:
        await ledger.close()


async def expire(bot: Bot, approval_id: str, ago: timedelta = timedelta(seconds=1)) -> None:
    """The approval's deadline passed `ago`, and no sweep has run since: time passing,
    without waiting for it."""
    async with bot.board.store.db.write() as session:
        await session.exec(
            update(Approval)
            .where(col(Approval.id) == approval_id)
            .values(expires_at=utcnow() - ago)
        )
