"""The Slack app through localslack: real Bolt, signed HTTP, Socket Mode, the Web API."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from localslack import LocalSlack, signature
from tests.helpers.harness import bot, bot_messages, settings_for, settled


def mention(slack: LocalSlack, text: str) -> str:
    return f"<@{slack.bot_user_id}> {text}"


async def test_mention_gets_one_reply_in_its_thread(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.post(
            "bob", "support", mention(slack, "Why was I charged on invoice INV-1024?")
        )
        reply = await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        assert reply["thread_ts"] == ts
        assert "INV-1024" in json.dumps(reply["blocks"])
        assert "Answered by *Billing*" in json.dumps(reply["blocks"])
        # In a thread the bot is part of, a mention arrives as app_mention AND message: one answer.
        follow = await slack.post(
            "bob", "support", mention(slack, "and the line items?"), thread_ts=ts
        )
        await slack.wait_for_bot_message("support", thread_ts=ts, after_ts=follow, within=20)
        # The twin that loses may be acked after the reply: the count is right once both are.
        await slack.wait_for_deliveries(
            lambda d: (
                (d.payload.get("event") or {}).get("ts") == follow and any(a.ok for a in d.attempts)
            ),
            count=2,
            within=10,
        )
        await settled(running)
        assert len(bot_messages(slack, "support", ts)) == 2
        assert running.board.metrics.duplicates.labels("twin")._value.get() == 1


async def test_dm_conversation_keeps_its_memory(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        channel = "D0BOB"
        first = await slack.dm("bob", "I think invoice INV-1024 charged me after I cancelled")
        await slack.wait_for_bot_message(channel, after_ts=first, within=20)
        second = await slack.dm("bob", "ok, and what happens next?")
        await slack.wait_for_bot_message(channel, after_ts=second, within=20)
        await settled(running)
        thread = await running.board.store.memory.find_thread("T0LOCAL", channel, "dm")
        assert thread is not None and thread.id is not None
        messages = await running.board.store.memory.messages(thread.id)
        assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
        assert messages[2].route_source == "continuity" and messages[3].agent == "billing"


def signed(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    retry: int | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body.encode()),
    }
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def event(event_id: str, ts: str, text: str, kind: str = "app_mention") -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T0LOCAL",
            "api_app_id": "A0LOCAL",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": kind,
                "user": "U0BOB",
                "text": text,
                "ts": ts,
                "channel": "C0SUPPORT",
                "channel_type": "channel",
                "event_ts": ts,
            },
        }
    )


async def test_a_retried_event_is_answered_once(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.post(
            "bob", "support", "hello all"
        )  # a plain channel message: not for the bot
        body = event("EvRETRY1", ts, mention(slack, "my card was declined on invoice INV-1026"))
        async with aiohttp.ClientSession() as http:
            for retry in (None, 1, 2):
                async with http.post(
                    running.events_url,
                    data=body,
                    headers=signed(slack.signing_secret, body, retry=retry),
                ) as response:
                    assert response.status == 200
        await settled(running)
        rows = await running.board.store.inbox.recoverable()
        assert rows == []
        assert len(bot_messages(slack, "support", ts)) == 1
        assert running.board.metrics.duplicates.labels("retry")._value.get() == 2


async def test_bad_requests_get_clear_answers_and_change_nothing(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        secret = slack.signing_secret
        body = event("EvBAD1", "1700000000.000100", "hello")
        unknown = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0LOCAL",
                "event_id": "EvODD",
                "event": {"type": "workflow_deleted_weird", "event_ts": "1.0"},
            }
        )
        async with aiohttp.ClientSession() as http:
            cases = [
                (body, {**signed(secret, body), "X-Slack-Signature": "v0=" + "0" * 64}, 401),
                (body, signed(secret, body, timestamp=int(time.time()) - 600), 401),
                ("{not json", signed(secret, "{not json"), 400),
                (
                    "payload=%7Bbroken",
                    signed(
                        secret,
                        "payload=%7Bbroken",
                        content_type="application/x-www-form-urlencoded",
                    ),
                    400,
                ),
                (unknown, signed(secret, unknown), 200),
            ]
            for data, headers, status in cases:
                async with http.post(running.events_url, data=data, headers=headers) as response:
                    assert response.status == status, (data, await response.text())
        await settled(running)
        assert await running.board.store.inbox.by_event_id("EvBAD1") is None
        assert await running.board.store.inbox.by_event_id("EvODD") is None
        assert slack.history("support") == []


async def test_reply_survives_a_crash_after_the_ack(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path)
    reached = asyncio.Event()
    async with bot(slack, settings, lease=timedelta(seconds=1)) as first:

        class Stuck:
            async def handle(self, turn: object, sink: object = None) -> object:
                reached.set()
                await (
                    asyncio.Event().wait()
                )  # the process "dies" here: after the ack, before a reply
                raise AssertionError("unreachable")

        first.board.worker.supervisor = Stuck()  # type: ignore[assignment]
        ts = await slack.post("bob", "support", mention(slack, "Please explain invoice INV-1022"))
        async with asyncio.timeout(10):
            await reached.wait()
        await first.board.worker.stop()  # like SIGKILL: the row stays `processing` under its lease
    assert slack.thread("support", ts)[1:] == []
    async with bot(slack, settings, lease=timedelta(seconds=1)) as second:
        reply = await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        await settled(second)
        assert "INV-1022" in reply["text"]
        assert len(bot_messages(slack, "support", ts)) == 1


async def test_socket_mode_survives_a_refresh_mid_conversation(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path), socket=True) as running:
        ts = await slack.post("bob", "support", mention(slack, "Why was invoice INV-1024 charged?"))
        await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        await slack.refresh_socket_mode()
        follow = await slack.post(
            "bob", "support", "and can you explain the line items?", thread_ts=ts
        )
        await slack.wait_for_bot_message("support", thread_ts=ts, after_ts=follow, within=20)
        await settled(running)
        assert len(bot_messages(slack, "support", ts)) == 2


async def test_rate_limited_posts_are_retried_after_retry_after(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        threads = [
            await slack.post("cara", "billing", mention(slack, f"explain invoice INV-10{n:02d}"))
            for n in (10, 17, 22, 24)
        ]
        for ts in threads:
            await slack.wait_for_bot_message("billing", thread_ts=ts, within=30)
        await settled(running)
        assert slack.rate_limit_hits, "the pace was never exceeded, so nothing was tested"
        assert all(len(bot_messages(slack, "billing", ts)) == 1 for ts in threads)


@pytest.mark.parametrize("command", ["help", "status"])
async def test_slash_command_answers(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, command: str
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        delivery = await slack.slash("bob", "support", command)
        assert delivery.response is not None or delivery.state
        answer = await slack.wait_for(lambda: slack.ephemerals("bob", "support") or None, within=10)
        assert "Switchboard" in json.dumps(answer)
