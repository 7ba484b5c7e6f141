"""The adversarial suite's Slack: the local workspace with Slack's pacing off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from localslack import LocalSlack, LocalSlackConfig


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """Slack's pacing is off: these cases count effects, and the e2e tests cover 429s."""
    async with LocalSlack(
        LocalSlackConfig(ack_timeout=3.0, retry_delays=(0.0, 0.5, 0.5), rate_limits_enabled=False)
    ) as workspace:
        yield workspace
