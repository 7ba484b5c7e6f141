"""Messages the bot used to ignore: replies also sent to the channel, and messages with files.

Through localslack, which sends `thread_broadcast` and `file_share` events as Slack does and
serves `files.info` and the files' private URLs.
"""

from __future__ import annotations

from pathlib import Path

from localslack import LocalSlack
from tests.helpers.harness import bot, bot_messages, settings_for, settled

LOG = b"2026-11-29 ERROR payment webhook failed: invoice INV-1024 signature mismatch\n"


def mention(slack: LocalSlack, text: str) -> str:
    return f"<@{slack.bot_user_id}> {text}"


async def test_a_reply_also_sent_to_the_channel_is_answered(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.post("bob", "support", mention(slack, "explain invoice INV-1024"))
        await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        follow = await slack.post(
            "bob", "support", "and why was it charged twice?", thread_ts=ts, broadcast=True
        )
        await slack.wait_for_bot_message("support", thread_ts=ts, after_ts=follow, within=20)
        await settled(running)
        assert len(bot_messages(slack, "support", ts)) == 2


async def test_a_text_file_in_a_dm_is_read_with_the_bot_token(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.upload("bob", "D0BOB", "webhook.log", LOG, "what does this log mean?")
        await slack.wait_for_bot_message("D0BOB", after_ts=ts, within=20)
        await settled(running)
        thread = await running.board.store.memory.find_thread("T0LOCAL", "D0BOB", "dm")
        assert thread is not None and thread.id is not None
        [question, _] = await running.board.store.memory.messages(thread.id)
    assert question.text.startswith("what does this log mean?")
    assert "[Attached: webhook.log (" in question.text
    assert "signature mismatch" in question.text
    assert [auth for _, auth in slack.file_downloads] == [f"Bearer {slack.bot_token}"]


async def test_a_file_alone_in_the_bots_thread_is_named_and_answered(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.post(
            "bob", "support", mention(slack, "SSO login fails with invalid_grant")
        )
        await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        shared = await slack.upload("bob", "support", "screen.png", b"\x89PNG\r\n", thread_ts=ts)
        await slack.wait_for_bot_message("support", thread_ts=ts, after_ts=shared, within=20)
        await settled(running)
        thread = await running.board.store.memory.find_thread("T0LOCAL", "C0SUPPORT", ts)
        assert thread is not None and thread.id is not None
        texts = [m.text for m in await running.board.store.memory.messages(thread.id)]
    assert "[Attached: screen.png (image/png, 6 B); not read]" in texts
    assert slack.file_downloads == [], "an image is named, not downloaded"
