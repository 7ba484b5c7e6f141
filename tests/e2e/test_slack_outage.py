"""The bot through a Web API that fails as Slack's does: every reply out once, soon after.

localslack's outage modes answer the bot's Web API calls with HTML 500s, text 503s, empty 502s
or reset connections, or take a post and never answer it. Short retry delays keep the tests
fast; `bench/slack_outage.py` measures recovery after a 20 s outage with the defaults.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from localslack import LocalSlack
from localslack.outage import Mode
from storage.tables import OutboxMessage
from tests.helpers.harness import bot, bot_messages, settings_for, settled


def mention(slack: LocalSlack, text: str) -> str:
    return f"<@{slack.bot_user_id}> {text}"


async def outbox(board_store: object) -> list[OutboxMessage]:
    async with board_store.db.read() as session:  # type: ignore[attr-defined]
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


@pytest.mark.parametrize("mode", ["html_500", "text_503", "empty_502", "reset"])
async def test_replies_survive_an_outage_and_go_out_once_after_it(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, mode: Mode
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path)
    async with bot(slack, settings, max_post_backoff=0.5) as running:
        slack.break_web_api(mode)
        thread = await slack.post("bob", "support", mention(slack, "explain invoice INV-1024"))
        dm = await slack.dm("bob", "why was INV-1022 charged twice?")
        await slack.wait_for(lambda: slack.outage_hits >= 6, within=20, what="failed posts")
        assert bot_messages(slack, "support", thread) == []
        mended = time.monotonic()
        slack.mend_web_api()
        await slack.wait_for_bot_message("support", thread_ts=thread, within=20)
        await slack.wait_for_bot_message("D0BOB", after_ts=dm, within=20)
        resumed = time.monotonic() - mended
        await settled(running)
        rows = await outbox(running.board.store)
    assert len(bot_messages(slack, "support", thread)) == 1
    assert len([m for m in slack.history("D0BOB") if m.get("bot_id")]) == 1
    assert {r.status for r in rows} == {"posted"}, [(r.status, r.error) for r in rows]
    assert resumed < 10, f"delivery resumed {resumed:.1f} s after Slack recovered"


@pytest.mark.parametrize("where", ["dm", "thread"])
async def test_a_post_slack_took_before_the_process_died_is_not_posted_again(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, where: str
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path)
    lease = timedelta(seconds=1)
    async with bot(slack, settings, post_lease=lease) as first:
        slack.break_web_api("hold", ["chat.postMessage"])
        if where == "dm":
            asked = await slack.dm("bob", "why was INV-1022 charged twice?")
            channel, thread = "D0BOB", None
        else:
            asked = await slack.post("bob", "support", mention(slack, "explain invoice INV-1024"))
            channel, thread = "support", asked
        # Slack has the reply, and the bot is still waiting for Slack's answer...
        await slack.wait_for_bot_message(channel, thread_ts=thread, after_ts=asked, within=20)
        [row] = [r for r in await outbox(first.board.store) if r.status == "sending"]
        assert row.id is not None
    # ...when the process dies. A new one starts once Slack answers again.
    slack.mend_web_api()
    async with bot(slack, settings, post_lease=lease) as second:
        async with asyncio.timeout(20):
            await second.board.sender.wait_posted(row.id)
        await settled(second)
        [again] = [r for r in await outbox(second.board.store) if r.id == row.id]
    replies = (
        [m for m in slack.history("D0BOB") if m.get("bot_id")]
        if where == "dm"
        else bot_messages(slack, "support", asked)
    )
    assert len(replies) == 1, replies
    assert again.status == "posted" and again.slack_ts == replies[0]["ts"]
