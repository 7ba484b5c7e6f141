"""Signed Events API delivery to a real Bolt app served by its aiohttp adapter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from localslack import LocalSlack, LocalSlackConfig, UrlVerificationError
from tests.helpers.bolt import bolt_app, serve_bolt


def _recorder(app: AsyncApp) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any]) -> None:
        seen.append(body)

    @app.event("message")
    async def on_message(body: dict[str, Any]) -> None:
        seen.append(body)

    return seen


async def test_url_verification_and_signature_accepted_by_bolt(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    seen = _recorder(app)
    async with serve_bolt(app) as url:
        await ls.use_http(url)  # answers the challenge, or raises
        ts = await ls.post("bob", "support", "hello there")
        await ls.wait_for(lambda: seen, what="a message event in Bolt")
    (body,) = seen
    assert body["type"] == "event_callback"
    assert body["event"]["ts"] == ts
    assert body["event"]["channel_type"] == "channel"
    assert body["authorizations"][0]["user_id"] == ls.bot_user_id
    assert {"token", "team_id", "api_app_id", "event_id", "event_time", "event_context"} <= set(
        body
    )


async def test_wrong_signing_secret_fails_verification(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    async with serve_bolt(app) as url:
        with pytest.raises(UrlVerificationError):
            await ls.use_http(url, signing_secret="not-the-apps-secret")
    assert ls.deliveries[-1].attempts[0].status == 401


async def test_mention_sends_app_mention_and_message_then_bot_reply(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    seen: list[dict[str, Any]] = []

    @app.event("app_mention")
    async def reply(event: dict[str, Any], say: Any) -> None:
        await say(text="Looking into it", thread_ts=event["ts"])

    @app.event("message")
    async def on_message(body: dict[str, Any]) -> None:
        seen.append(body)

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        ts = await ls.post("alice", "support", f"<@{ls.bot_user_id}> refund order 42")
        reply_msg = await ls.wait_for_bot_message("support", thread_ts=ts)
        # the bot's own reply comes back as a message event with bot_id; Bolt acks it
        bot_events = await ls.wait_for_deliveries(
            lambda d: d.payload["event"].get("bot_id") is not None and d.state == "acked"
        )
        await ls.wait_for(lambda: seen, what="the user's message event in Bolt")
    assert reply_msg["text"] == "Looking into it"
    mention = [d for d in ls.deliveries if d.event_type == "app_mention"]
    message = [
        d for d in ls.deliveries if d.event_type == "message" and d.payload["event"]["ts"] == ts
    ]
    assert len(mention) == 1 and len(message) == 1
    assert mention[0].event_id != message[0].event_id
    assert bot_events[0].payload["event"]["ts"] == reply_msg["ts"]
    assert all(d.state == "acked" for d in ls.deliveries)
    assert [b["event"]["ts"] for b in seen] == [ts]  # Bolt ignored the bot's own message


async def test_unacked_event_is_retried_with_headers_and_same_event_id(ls: LocalSlack) -> None:
    app = bolt_app(ls, process_before_response=True)
    attempts: list[tuple[str, str | None, str | None]] = []
    retried = asyncio.Event()

    @app.event("message")
    async def slow_first_time(body: dict[str, Any], request: AsyncBoltRequest) -> None:
        num = request.headers.get("x-slack-retry-num", [None])[0]
        reason = request.headers.get("x-slack-retry-reason", [None])[0]
        attempts.append((body["event_id"], num, reason))
        if num is None:
            await retried.wait()  # hold the first attempt past the ack timeout
        else:
            retried.set()

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        await ls.post("cara", "billing", "invoice question")
        (delivery,) = await ls.wait_for_deliveries(lambda d: d.state == "acked")
    assert [a.number for a in delivery.attempts] == [0, 1]
    assert delivery.attempts[0].error == "http_timeout"
    assert attempts[0][1:] == (None, None)
    assert attempts[1][1:] == ("1", "http_timeout")
    assert attempts[0][0] == attempts[1][0] == delivery.event_id


async def test_error_status_is_retried_until_gave_up(ls: LocalSlack) -> None:
    app = bolt_app(ls)  # no listener: Bolt answers 404, Slack retries

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        await ls.post("cara", "billing", "nobody listens")
        (delivery,) = await ls.wait_for_deliveries(lambda d: d.state == "failed", within=5)
    assert [a.status for a in delivery.attempts] == [404, 404, 404, 404]
    assert [a.headers.get("X-Slack-Retry-Reason") for a in delivery.attempts] == [
        None,
        "http_error",
        "http_error",
        "http_error",
    ]


async def test_dm_edit_and_delete_events(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    seen = _recorder(app)
    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        ts = await ls.dm("dev", "is prod down?")
        await ls.edit("dev", "D0DEV", ts, "is prod down? (api)")
        await ls.delete("dev", "D0DEV", ts)
        await ls.wait_for(lambda: len(seen) >= 3, what="three DM events")
    new, changed, deleted = (b["event"] for b in seen)
    assert new["channel_type"] == "im" and new["channel"] == "D0DEV"
    assert changed["subtype"] == "message_changed"
    assert changed["message"]["text"] == "is prod down? (api)"
    assert changed["previous_message"]["text"] == "is prod down?"
    assert deleted["subtype"] == "message_deleted" and deleted["deleted_ts"] == ts


async def test_no_events_from_channels_without_the_bot(ls: LocalSlack) -> None:
    await ls.post("alice", "general", f"<@{ls.bot_user_id}> are you here?")
    assert ls.deliveries == []


async def test_events_wait_for_an_app_that_is_still_starting() -> None:
    # `switchboard local` serves the page before the bot is up: what people post meanwhile
    # reaches the bot when it connects, instead of being lost.
    async with LocalSlack(LocalSlackConfig(delivery="http")) as ls:
        ts = await ls.post("bob", "support", "hello before the app is up")
        assert ls.deliveries[-1].state == "pending"
        app = bolt_app(ls)
        seen = _recorder(app)
        async with serve_bolt(app) as url:
            await ls.use_http(url)
            await ls.wait_for(lambda: seen, what="the early message in Bolt")
    assert [body["event"]["ts"] for body in seen] == [ts]
