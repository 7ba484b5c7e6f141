"""Fixtures: a started LocalSlack with short timings and a Web API client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack
from tests.helpers.bolt import FAST


@pytest.fixture
async def ls() -> AsyncIterator[LocalSlack]:
    """A running localslack on a free port, with test timings."""
    async with LocalSlack(FAST) as running:
        yield running


@pytest.fixture
def client(ls: LocalSlack) -> AsyncWebClient:
    """slack_sdk's async Web API client pointed at localslack."""
    return AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)
