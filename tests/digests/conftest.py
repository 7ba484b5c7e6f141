"""The digests' Slack: the local workspace, answering quickly and without pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from localslack import LocalSlack, LocalSlackConfig


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(
        LocalSlackConfig(ack_timeout=0.5, retry_delays=(0.0,), rate_limits_enabled=False)
    ) as workspace:
        yield workspace
