"""Button clicks and slash commands reach Bolt listeners, and response_url works."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack
from tests.helpers.bolt import CARD, bolt_app, serve_bolt


async def test_click_reaches_bolt_action_and_respond_replaces(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    app = bolt_app(ls)
    bodies: list[dict[str, Any]] = []

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        bodies.append(body)
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")
        await respond(response_type="ephemeral", text="Refund issued")

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        parent = await ls.post("bob", "billing", "refund order 42 please")
        card = await client.chat_postMessage(
            channel="C0BILLING", thread_ts=parent, text="Approval needed", blocks=CARD
        )
        delivery = await ls.click("alice", "billing", card["ts"], "approve")
        assert delivery.state == "acked"
        await ls.wait_for(lambda: ls.ephemerals("alice", "billing"), what="the ephemeral")

    (body,) = bodies
    assert body["type"] == "block_actions"
    assert body["user"]["id"] == "U0ALICE"
    assert body["channel"]["id"] == "C0BILLING"
    assert body["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C0BILLING",
        "is_ephemeral": False,
        "thread_ts": parent,
    }
    action = body["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "approval",
        "approval-7",
    )
    assert action["type"] == "button"
    assert body["message"]["ts"] == card["ts"]
    assert body["trigger_id"]
    replaced = ls.thread("billing", parent)[1]
    assert replaced["text"] == "Approved by <@U0ALICE>"
    assert "blocks" not in replaced
    assert ls.ephemerals("alice", "billing")[0]["thread_ts"] == parent
    assert ls.ephemerals("bob", "billing") == []


async def test_respond_delete_original_and_in_channel(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    app = bolt_app(ls)

    @app.action("reject")
    async def reject(ack: Any, respond: Any) -> None:
        await ack()
        await respond(delete_original=True)
        await respond(response_type="in_channel", text="Rejected.")

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        card = await client.chat_postMessage(channel="C0BILLING", text="card", blocks=CARD)
        await ls.click("erin", "billing", card["ts"], "reject")
        message = await ls.wait_for_bot_message("billing", after_ts=card["ts"])
    assert message["text"] == "Rejected."
    assert [m["text"] for m in ls.history("billing")] == ["Rejected."]


async def test_slash_command_ack_text_and_respond(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    commands: list[dict[str, Any]] = []

    @app.command("/switchboard")
    async def command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        commands.append(command)
        await ack(text=f"Working on: {command['text']}")
        await respond(response_type="in_channel", text="Digest: 3 open tickets")

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        delivery = await ls.slash("dev", "oncall", "digest today")
        message = await ls.wait_for_bot_message("oncall")
    assert delivery.state == "acked"
    assert commands[0]["command"] == "/switchboard"
    assert commands[0]["text"] == "digest today"
    assert commands[0]["user_id"] == "U0DEV"
    assert commands[0]["channel_id"] == "C0ONCALL"
    assert message["text"] == "Digest: 3 open tickets"
    assert ls.ephemerals("dev", "oncall")[0]["text"] == "Working on: digest today"


async def test_slow_slash_command_shows_operation_timeout(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    release = asyncio.Event()

    @app.command("/switchboard")
    async def command(ack: Any) -> None:
        await release.wait()  # never acks within the 0.5 s window
        await ack()

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        delivery = await ls.slash("dev", "oncall", "status")
        release.set()
    assert delivery.state == "failed"
    assert delivery.attempts[0].error == "http_timeout"
    assert "operation_timeout" in ls.ephemerals("dev", "oncall")[0]["text"]


async def test_unreachable_app_shows_dispatch_failed(ls: LocalSlack) -> None:
    await ls.use_http("http://127.0.0.1:9/unreachable", verify=False)
    delivery = await ls.slash("dev", "oncall", "status")
    assert delivery.state == "failed"
    assert ls.ephemerals("dev", "oncall")[0]["text"] == (
        '/switchboard failed with the error "dispatch_failed"'
    )
