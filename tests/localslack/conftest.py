"""Fixtures: a started LocalSlack with short timings, a Web API client, a Bolt app server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
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


@pytest.fixture
async def ls() -> AsyncIterator[LocalSlack]:
    """A running localslack on a free port, with test timings."""
    async with LocalSlack(FAST) as running:
        yield running


@pytest.fixture
def client(ls: LocalSlack) -> AsyncWebClient:
    """slack_sdk's async Web API client pointed at localslack."""
    return AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)


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
