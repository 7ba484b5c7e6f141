"""Provider failures by kind, through litellm and the OpenAI SDK against a local provider.

Every test points `openai/...` at `tests.provider.FakeProvider` (or at a refused port) and
checks what the LLM layer does: how often the provider is asked, whether the breaker opens and
why, whether the offline model answers, and that the turn's budget bounds the time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from agents.budget import turn_budget
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineRequest, OfflineStep, install_policy
from tests.helpers.provider import FakeProvider, fake_provider, refused_url

KEY = "sk-test-secret-0123456789"
PRIMARY, BACKUP = "openai/gpt-primary", "openai/gpt-backup"
ASK = [{"role": "user", "content": "why was I charged twice?"}]


def _offline(request: OfflineRequest) -> OfflineStep:
    return OfflineStep(text=f"offline: {request.user_text}")


OFFLINE = install_policy("llm-failures", _offline)


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProvider]:
    async with fake_provider() as fake:
        monkeypatch.setenv("OPENAI_API_BASE", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield fake


async def no_sleep(_: float) -> None:
    return None


def llm(**settings: object) -> LLM:
    return LLM(LLMSettings(**{"retries": 2, "backoff": 0.01, **settings}))  # type: ignore[arg-type]


async def test_a_healthy_provider_answers(provider: FakeProvider) -> None:
    completion = await llm().complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert completion.content == "answer from gpt-primary" and not completion.degraded
    assert provider.hits[0].authorization == f"Bearer {KEY}"


async def test_a_refused_key_opens_the_breaker_at_once_and_says_what_to_fix(
    provider: FakeProvider,
) -> None:
    provider.default = "401"
    model = llm()
    with capture_logs() as logs:
        first = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
        second = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert first.degraded and first.content == "offline: why was I charged twice?"
    assert second.degraded
    assert provider.count() == 1, "a 401 is not retried, and the open breaker skips the model"
    [opened] = model.breakers.open_ones()
    assert opened.model == PRIMARY
    assert "refused the credentials (HTTP 401)" in opened.reason
    assert "OPENAI_API_KEY" in opened.reason
    unavailable = [e for e in logs if e["event"] == "llm.model_unavailable"]
    assert len(unavailable) == 1 and unavailable[0]["log_level"] == "error"
    assert KEY not in repr(logs), "the provider echoes the key; it must not reach the logs"


@pytest.mark.parametrize("status", ["403", "404"])
async def test_permission_and_unknown_model_also_open_at_once(
    provider: FakeProvider, status: str
) -> None:
    provider.default = status  # type: ignore[assignment]
    model = llm()
    assert (await model.complete(PRIMARY, ASK, offline_model=OFFLINE)).degraded
    assert provider.count() == 1 and model.breakers[PRIMARY].is_open


async def test_server_errors_are_retried_with_backoff_then_counted(provider: FakeProvider) -> None:
    provider.default = "500"
    model = llm(retries=2, breaker_threshold=2)
    assert (await model.complete(PRIMARY, ASK, offline_model=OFFLINE)).degraded
    assert provider.count() == 3, "one try and two retries, each a single HTTP request"
    assert not model.breakers[PRIMARY].is_open
    await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert model.breakers[PRIMARY].is_open and provider.count() == 6


async def test_a_refused_connection_is_retried_then_the_offline_model_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", refused_url())
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = llm(retries=1)
    with capture_logs() as logs:
        completion = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert completion.degraded
    assert [e["event"] for e in logs].count("llm.retry") == 1
    assert model.breakers[PRIMARY].failures == 1


async def test_rate_limits_wait_as_told_unless_the_budget_is_shorter(
    provider: FakeProvider,
) -> None:
    provider.default, provider.retry_after = "429", "0.2"
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    model = LLM(LLMSettings(retries=2, backoff=0.01), sleep=sleep)
    await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert waits == [0.2, 0.2] and provider.count() == 3
    provider.retry_after = "120"  # longer than the turn may lose: give up at once
    waits.clear()
    with turn_budget(30):
        assert (await model.complete(BACKUP, ASK, offline_model=OFFLINE)).degraded
    assert waits == [] and provider.count(BACKUP.split("/")[1]) == 1


async def test_a_bad_request_is_not_retried_nor_held_against_the_model(
    provider: FakeProvider,
) -> None:
    provider.default = "400"
    model = llm(breaker_threshold=1)
    assert (await model.complete(PRIMARY, ASK, offline_model=OFFLINE)).degraded
    assert provider.count() == 1 and not model.breakers[PRIMARY].is_open


async def test_a_hanging_provider_costs_a_turn_its_failure_budget_once(
    provider: FakeProvider,
) -> None:
    provider.default = "hang"
    model = llm(timeout=30, failure_budget=0.5)
    started = time.monotonic()
    with turn_budget(60):
        first = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
        second = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)  # the next step
    elapsed = time.monotonic() - started
    assert first.degraded and second.degraded
    assert provider.count() == 1, "a model that failed in this turn is not asked again in it"
    assert elapsed < 5, f"the failure budget is 0.5 s, the turn took {elapsed:.1f} s"
    assert model.breakers[PRIMARY].failures == 1, "a timed-out call counts as a failure"


async def test_the_turn_deadline_leaves_the_offline_model_its_reserve(
    provider: FakeProvider,
) -> None:
    provider.default = "hang"
    model = llm(timeout=30, failure_budget=30, reserve=0.5)
    started = time.monotonic()
    with turn_budget(1.0):
        completion = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert completion.degraded
    assert time.monotonic() - started < 1.0, "the offline model answered before the deadline"


async def test_a_cancelled_call_counts_as_a_failure(provider: FakeProvider) -> None:
    provider.default = "hang"
    model = llm(timeout=30, breaker_threshold=1)
    call = asyncio.create_task(model.complete(PRIMARY, ASK, offline_model=OFFLINE))
    await provider.wait_hits(1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert model.breakers[PRIMARY].is_open


async def test_the_next_fallback_answers_before_the_offline_model(provider: FakeProvider) -> None:
    provider.behaviours = {"gpt-primary": "401"}
    model = llm(fallbacks=(BACKUP,))
    completion = await model.complete(PRIMARY, ASK, offline_model=OFFLINE)
    assert completion.content == "answer from gpt-backup" and completion.model == BACKUP
    assert [h.model for h in provider.hits] == ["gpt-primary", "gpt-backup"]
