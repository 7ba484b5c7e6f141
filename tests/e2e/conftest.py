from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack.manifest import manifest
from localslack import LocalSlack, LocalSlackConfig, config_from_manifest


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """A fresh local workspace on a free port, Slack's pacing on, quick retries; it delivers
    and shows what the app's manifest declares, as Slack would."""
    config = LocalSlackConfig(ack_timeout=3.0, retry_delays=(0.0, 0.5, 0.5))
    async with LocalSlack(config_from_manifest(manifest(), config)) as workspace:
        yield workspace
