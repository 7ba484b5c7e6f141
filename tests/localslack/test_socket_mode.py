"""Socket Mode with slack_sdk's aiohttp SocketModeClient and Bolt's Socket Mode handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack
from tests.helpers.bolt import CARD, FAST, bolt_app

Listener = Callable[[SocketModeClient, SocketModeRequest], Awaitable[None]]


@asynccontextmanager
async def socket_client(ls: LocalSlack, listener: Listener) -> AsyncIterator[SocketModeClient]:
    """A connected slack_sdk SocketModeClient using the app-level token."""
    client = SocketModeClient(
        app_token=ls.app_token, web_client=AsyncWebClient(base_url=ls.api_url)
    )
    client.socket_mode_request_listeners.append(listener)  # type: ignore[arg-type]
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


async def test_bolt_socket_mode_events_clicks_and_commands(ls: LocalSlack) -> None:
    ls.use_socket_mode()
    app = bolt_app(ls)
    clicked: list[dict[str, Any]] = []

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any) -> None:
        await say(text="On it", thread_ts=event["ts"])

    @app.event("message")
    async def message() -> None:
        pass

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        clicked.append(body)
        await respond(replace_original=True, text="Approved")

    @app.command("/switchboard")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"echo {command['text']}")

    handler = AsyncSocketModeHandler(app, ls.app_token)
    await handler.connect_async()
    try:
        ts = await ls.post("alice", "support", f"<@{ls.bot_user_id}> help")
        reply = await ls.wait_for_bot_message("support", thread_ts=ts)
        card = await app.client.chat_postMessage(channel="C0SUPPORT", text="card", blocks=CARD)
        click = await ls.click("erin", "support", card["ts"], "approve")
        await ls.wait_for(lambda: ls.history("support")[-1]["text"] == "Approved")
        slash = await ls.slash("bob", "support", "ping")
    finally:
        await handler.close_async()
    assert reply["text"] == "On it"
    assert click.state == "acked" and click.attempts[0].transport == "socket"
    assert clicked[0]["actions"][0]["value"] == "approval-7"
    assert slash.state == "acked"
    assert ls.ephemerals("bob", "support")[0]["text"] == "echo ping"
    mentioned = next(d for d in ls.deliveries if d.event_type == "app_mention")
    assert mentioned.attempts[0].envelope_id is not None


async def test_refresh_loses_nothing_and_redelivers_unacked() -> None:
    async with LocalSlack(replace(FAST, ack_timeout=5.0, delivery="socket")) as ls:
        seen: list[tuple[str, str, int | None]] = []

        async def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
            event = req.payload["event"]
            seen.append((event["text"], req.payload["event_id"], req.retry_attempt))
            if event["text"] == "hold" and not req.retry_attempt:
                return  # never ack the first delivery: it is in flight during the refresh
            await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))

        async with socket_client(ls, listener):
            await ls.wait_for(lambda: ls.socket_connections == 1, what="a connection")
            for i in range(3):
                await ls.post("bob", "support", f"before {i}")
            await ls.post("bob", "support", "hold")
            await ls.wait_for(lambda: any(t == "hold" for t, _, _ in seen), what="hold")
            assert await ls.refresh_socket_mode() == 1
            for i in range(3):
                await ls.post("bob", "support", f"after {i}")
            await ls.wait_for_deliveries(lambda d: d.state == "acked", count=7, within=5)
            assert ls.parts.socket_mode.connections_opened == 2
    texts = {t for t, _, _ in seen}
    assert texts == {"before 0", "before 1", "before 2", "hold", "after 0", "after 1", "after 2"}
    holds = [(eid, attempt) for t, eid, attempt in seen if t == "hold"]
    assert holds[0][1] == 0 and holds[-1][1] == 1
    assert holds[0][0] == holds[-1][0]
    hold = next(d for d in ls.deliveries if d.payload["event"]["text"] == "hold")
    assert [a.error for a in hold.attempts] == ["connection_closed", None]


async def test_unacked_envelope_is_retried_after_timeout(ls: LocalSlack) -> None:
    ls.use_socket_mode()
    seen: list[SocketModeRequest] = []

    async def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        if req.retry_attempt:
            await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))

    async with socket_client(ls, listener):
        await ls.post("cara", "billing", "retry me")
        (delivery,) = await ls.wait_for_deliveries(lambda d: d.state == "acked", within=5)
    assert [(r.retry_attempt, r.retry_reason) for r in seen] == [(0, ""), (1, "timeout")]
    assert seen[0].payload["event_id"] == seen[1].payload["event_id"] == delivery.event_id
    assert seen[0].envelope_id != seen[1].envelope_id


async def test_connection_limit() -> None:
    async with LocalSlack(replace(FAST, max_socket_connections=2)) as ls:
        api = AsyncWebClient(token=ls.app_token, base_url=ls.api_url)
        async with aiohttp.ClientSession() as session:
            sockets = []
            for _ in range(3):
                url = (await api.apps_connections_open(app_token=ls.app_token))["url"]
                sock = await session.ws_connect(url)
                sockets.append((sock, await sock.receive_json()))
            assert [m["type"] for _, m in sockets] == ["hello", "hello", "disconnect"]
            assert sockets[2][1]["reason"] == "too_many_websockets"
            for sock, _ in sockets:
                await sock.close()
