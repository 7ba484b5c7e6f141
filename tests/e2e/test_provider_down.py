"""The bot with a configured model whose provider is down: every turn still gets an answer.

The runtime runs as in production with `SWITCHBOARD_MODEL=openai/gpt-4o-mini`, litellm talking
to a local OpenAI-protocol server that refuses the key, hangs, or is not listening at all. Short
budgets keep the tests fast; `bench/provider_down.py` measures the same with the defaults.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config_file import ApprovalsConfig, ApproverRule, FileConfig, ModelsConfig
from localslack import LocalSlack
from router.supervisor import DEGRADED_NOTE
from tests.helpers.harness import bot, settings_for, settled
from tests.helpers.provider import FakeProvider, fake_provider, refused_url

KEY = "sk-test-e2e-secret"
QUESTIONS = [
    "Why was invoice INV-1024 charged after we cancelled?",
    "SSO login fails with invalid_grant",
    "hello, can someone help me with my account?",
]


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProvider]:
    async with fake_provider() as fake:
        monkeypatch.setenv("OPENAI_API_BASE", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield fake


def quick_models() -> FileConfig:
    models = ModelsConfig(
        timeout=timedelta(seconds=1),
        failure_budget=timedelta(seconds=1),
        retries=1,
        breaker_after=2,
    )
    return FileConfig(
        models=models, approvals=ApprovalsConfig(default=ApproverRule(groups=["S0SUPLEADS"]))
    )


async def ask_all(slack: LocalSlack) -> list[str]:
    """Each question at once, in a channel of its own (Slack paces posts per channel)."""
    channels = ["support", "billing", "oncall"]
    threads = [
        await slack.post("dev", channel, f"<@{slack.bot_user_id}> {question}")
        for channel, question in zip(channels, QUESTIONS, strict=True)
    ]
    replies = await asyncio.gather(
        *(
            slack.wait_for_bot_message(channel, thread_ts=ts, within=30)
            for channel, ts in zip(channels, threads, strict=True)
        )
    )
    return [str(r["text"]) for r in replies]


@pytest.mark.parametrize("behaviour", ["401", "hang", "500"])
async def test_every_turn_is_answered_by_the_offline_model_with_the_notice(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: FakeProvider, behaviour: str
) -> None:
    provider.default = behaviour  # type: ignore[assignment]
    settings = settings_for(slack, sqlite_url, tmp_path, file=quick_models()).with_env(
        model="openai/gpt-4o-mini"
    )
    async with bot(slack, settings) as running:
        texts = await ask_all(slack)
        await settled(running)
        asked = provider.count()
        texts += await ask_all(slack)
        await settled(running)
    assert asked > 0, "the configured model was asked first"
    plain = DEGRADED_NOTE.strip("_")
    assert all(plain in text for text in texts), texts
    if behaviour == "401":
        assert asked <= len(QUESTIONS), "a refused key is not retried"
        assert provider.count() == asked, "its breaker opened at once: not asked again"


async def test_a_refused_connection_is_answered_too(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", refused_url())
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    settings = settings_for(slack, sqlite_url, tmp_path, file=quick_models()).with_env(
        model="openai/gpt-4o-mini"
    )
    async with bot(slack, settings) as running:
        texts = await ask_all(slack)
        await settled(running)
    assert all(DEGRADED_NOTE.strip("_") in text for text in texts), texts


async def test_status_names_the_refused_model_and_the_fix(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: FakeProvider
) -> None:
    provider.default = "401"
    settings = settings_for(slack, sqlite_url, tmp_path, file=quick_models()).with_env(
        model="openai/gpt-4o-mini"
    )
    async with bot(slack, settings) as running:
        ts = await slack.post("bob", "support", f"<@{slack.bot_user_id}> {QUESTIONS[0]}")
        await slack.wait_for_bot_message("support", thread_ts=ts, within=30)
        await settled(running)
        await slack.slash("bob", "support", "status")
        answer = await slack.wait_for(lambda: slack.ephemerals("bob", "support") or None)
    status = json.dumps(answer)
    assert "openai/gpt-4o-mini" in status and "HTTP 401" in status
    assert "OPENAI_API_KEY" in status and KEY not in status
