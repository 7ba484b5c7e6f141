"""A Digests service posting to a local Slack workspace through the outbox, as the runtime
wires it, and what it posted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config_file import DigestConfig
from bot.digests.service import Digests
from bot.metrics import Metrics
from bot.slack.outbox import Sender
from localslack import LocalSlack
from storage.store import Store

DAILY = DigestConfig(
    name="daily", channel="C0SUPPORT", cron="0 9 * * 1-5", timezone="Europe/Berlin", window="24h"
)


@contextlib.asynccontextmanager
async def digests_for(
    store: Store,
    slack: LocalSlack,
    clock: Callable[[], datetime],
    configs: list[DigestConfig] | None = None,
) -> AsyncIterator[Digests]:
    """Digests with a running outbox sender, as the runtime wires them."""
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    sender = Sender(store, client, Metrics.create(), pace=0.0)
    sending = asyncio.create_task(sender.run())
    try:
        yield Digests(store, client, sender, configs or [DAILY], clock=clock, post_timeout=10)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending


def digest_messages(slack: LocalSlack, channel: str = "support") -> list[dict[str, Any]]:
    return [m for m in slack.history(channel) if m.get("bot_id")]
