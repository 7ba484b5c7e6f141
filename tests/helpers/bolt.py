"""The local workspace with test timings, a Bolt app wired to it, and a card to post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, LocalSlackConfig

FAST = LocalSlackConfig(
    ack_timeout=0.5,
    retry_delays=(0.0, 0.2, 0.2),
    refresh_grace=0.5,
    rate_limits_enabled=False,
)


CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Refund *$120* to order 42?"}},
    {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": "approval-7",
            },
            {
                "type": "button",
                "action_id": "reject",
                "text": {"type": "plain_text", "text": "Reject"},
                "style": "danger",
                "value": "approval-7",
                "confirm": {
                    "title": {"type": "plain_text", "text": "Reject?"},
                    "text": {"type": "mrkdwn", "text": "The customer gets no refund."},
                    "confirm": {"type": "plain_text", "text": "Reject"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
        ],
    },
]


def bolt_app(ls: LocalSlack, **kwargs: object) -> AsyncApp:
    """A Bolt app wired to localslack's Web API and signing secret."""
    return AsyncApp(
        client=AsyncWebClient(token=ls.bot_token, base_url=ls.api_url),
        signing_secret=ls.signing_secret,
        **kwargs,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def serve_bolt(app: AsyncApp) -> AsyncIterator[str]:
    """Serve a Bolt app with its aiohttp adapter on a free port; yields its request URL."""
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()
