from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from localslack import LocalSlack, LocalSlackConfig


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """A fresh local workspace on a free port, Slack's pacing on, quick retries."""
    async with LocalSlack(
        LocalSlackConfig(ack_timeout=3.0, retry_delays=(0.0, 0.5, 0.5))
    ) as workspace:
        yield workspace
