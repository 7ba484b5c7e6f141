"""Model calls observed: their spans reach a real OTLP receiver, their price, their meter, and the
money budget that keeps a turn on the offline model.

The spans go through the product's own set-up (`bot.telemetry.start`) and the OTLP/HTTP exporter
to `tests.helpers.otlp_receiver`, which decodes them with opentelemetry-proto; the provider is
the local OpenAI-protocol server of `tests.provider`, reached through litellm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import litellm
import pytest
from structlog.testing import capture_logs

from agents import metering, tracing
from agents.errors import LLMUnavailable
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineStep, install_policy
from agents.pricing import Price, cost_of
from agents.spend_budget import (
    BudgetReached,
    SpendBudgets,
    Spent,
    notice,
    offline_only,
    reached_of,
)
from bot import logs, telemetry
from bot.settings import EnvSettings, without_credentials
from tests.helpers.otlp_receiver import OTLPReceiver
from tests.helpers.provider import FakeProvider, fake_provider

KEY = "sk-test-observe-0123456789"
ASK = [{"role": "user", "content": "why was I charged twice on INV-1024?"}]
OFFLINE = install_policy("observe", lambda r: OfflineStep(text=f"offline: {r.user_text}"))


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProvider]:
    async with fake_provider() as fake:
        monkeypatch.setenv("OPENAI_API_BASE", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield fake


@pytest.fixture
async def receiver() -> AsyncIterator[OTLPReceiver]:
    otlp = await OTLPReceiver().start()
    yield otlp
    await otlp.stop()


def traces_to(receiver: OTLPReceiver, **env: str) -> telemetry.Telemetry:
    """Tracing as the entry point installs it, from OTEL_* settings."""
    return telemetry.start(EnvSettings(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, **env))  # type: ignore[arg-type]


async def test_a_failing_call_is_marked_by_its_error_type_and_never_carries_the_key(
    provider: FakeProvider, receiver: OTLPReceiver
) -> None:
    provider.default = "401"  # the provider's error echoes the key, as OpenAI's does
    traces = traces_to(receiver)
    try:
        with pytest.raises(LLMUnavailable):
            await LLM(LLMSettings(retries=0)).complete("openai/gpt-4o-mini", ASK)
    finally:
        await traces.close()
    [span] = await receiver.wait_for(lambda got: any(s.name == "chat gpt-4o-mini" for s in got))
    assert span.status == "ERROR" and span.attributes["error.type"] == "AuthenticationError"
    assert span.kind == "CLIENT" and span.attributes["gen_ai.provider.name"] == "openai"
    assert KEY not in repr(receiver.spans)
    assert "gen_ai.input.messages" not in span.attributes  # content is off by default


async def test_content_goes_into_spans_only_when_turned_on(
    provider: FakeProvider, receiver: OTLPReceiver
) -> None:
    traces = traces_to(receiver, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    try:
        with metering.metered() as meter, metering.acting_as("billing"):
            completion = await LLM().complete("openai/gpt-4o-mini", ASK)
    finally:
        await traces.close()
    [span] = await receiver.wait_for(lambda got: bool(got))
    assert "INV-1024" in span.attributes["gen_ai.input.messages"]
    assert "answer from gpt-4o-mini" in span.attributes["gen_ai.output.messages"]
    assert (
        span.attributes["gen_ai.usage.input_tokens"],
        span.attributes["gen_ai.usage.output_tokens"],
    ) == (10, 5)
    assert span.attributes["gen_ai.agent.name"] == "billing"
    # The meter has the call, priced as litellm prices it, and the completion carries the cost.
    price = sum(litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=10, completion_tokens=5))
    [metered] = meter.calls
    assert metered == metering.ModelCall(
        agent="billing",
        model="openai/gpt-4o-mini",
        input_tokens=10,
        output_tokens=5,
        cost_usd=metered.cost_usd,
        response_model="gpt-4o-mini",
    )
    assert metered.cost_usd == pytest.approx(price)
    assert (
        completion.usage.cost_usd == pytest.approx(price) == span.attributes["switchboard.cost_usd"]
    )


async def test_tracing_is_off_when_no_variable_asks_for_it() -> None:
    traces = telemetry.start(EnvSettings())
    assert not traces.on and not tracing.enabled()
    with tracing.span("anything") as span:
        assert not span.is_recording()
        assert tracing.traceparent() is None and tracing.current_ids() is None
    assert not EnvSettings(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318", OTEL_SDK_DISABLED="true"
    ).traces_on
    assert not EnvSettings(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318", OTEL_TRACES_EXPORTER="none"
    ).traces_on
    on = EnvSettings(OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318/")
    assert on.traces_on and on.traces_endpoint == "http://x:4318/v1/traces"
    assert on.otel_service_name == "switchboard"
    assert without_credentials("https://user:key@otlp.example:4318/v1/traces") == (
        "https://***@otlp.example:4318/v1/traces"
    )


async def test_log_lines_carry_the_trace_id(receiver: OTLPReceiver) -> None:
    traces = traces_to(receiver)
    try:
        with tracing.span("turn") as span:
            event = logs.trace_ids(None, "info", {"event": "turn.routed"})
            context = span.get_span_context()
    finally:
        await traces.close()
    assert event["trace_id"] == f"{context.trace_id:032x}"
    assert event["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in logs.trace_ids(None, "info", {"event": "outside a span"})


def test_a_configured_price_wins_and_an_unpriced_model_says_how_to_price_it() -> None:
    priced = {"ollama/llama3.1": Price(0.2, 0.6), "openai/gpt-4o-mini": Price(1.0, 2.0)}
    assert cost_of("ollama/llama3.1", None, 1_000_000, 500_000, priced) == pytest.approx(0.5)
    assert cost_of("openai/gpt-4o-mini", None, 1000, 500, priced) == pytest.approx(0.002)
    assert cost_of("openai/gpt-4o-mini", None, 1000, 500, {}) == pytest.approx(
        sum(litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=500))
    )
    assert cost_of("offline/billing", None, 1000, 500, {}) == 0.0
    with capture_logs() as logged:
        assert cost_of("openai/our-fine-tune", None, 1000, 500, {}) == 0.0
        assert cost_of("openai/our-fine-tune", None, 1000, 500, {}) == 0.0
    [line] = [e for e in logged if e["event"] == "llm.unpriced_model"]
    assert '[models.prices."openai/our-fine-tune"]' in line["fix"]


def test_the_narrowest_spent_budget_is_named_and_zero_means_none_at_all() -> None:
    budgets = SpendBudgets(per_channel_daily_usd=1.0, per_thread_usd=0.5, total_daily_usd=10.0)
    assert reached_of(budgets, Spent(0.9, 0.4, 9.0)) is None
    assert reached_of(budgets, Spent(1.0, 0.4, 9.0)) == BudgetReached(
        budget="per_channel_daily_usd", limit_usd=1.0, spent_usd=1.0
    )
    assert reached_of(budgets, Spent(2.0, 0.5, 20.0)).budget == "per_thread_usd"  # type: ignore[union-attr]
    assert reached_of(SpendBudgets(total_daily_usd=0), Spent(0, 0, 0)) is not None
    assert reached_of(SpendBudgets(), Spent(99, 99, 99)) is None


async def test_past_a_budget_every_call_goes_to_the_offline_model(provider: FakeProvider) -> None:
    reached = BudgetReached(budget="per_channel_daily_usd", limit_usd=1.0, spent_usd=1.5)
    with offline_only(reached):
        completion = await LLM().complete("openai/gpt-4o-mini", ASK, offline_model=OFFLINE)
        with pytest.raises(LLMUnavailable):  # the route classifier has no offline model
            await LLM().complete("openai/gpt-4o-mini", ASK)
        line = notice()
    assert provider.count() == 0
    assert completion.model == OFFLINE and completion.content == f"offline: {ASK[0]['content']}"
    assert line.startswith("_Budget reached: the channel's daily budget ($1.00")
    assert "`budgets.per_channel_daily_usd`" in line and notice() == ""
