"""Traces, cost and budgets end to end, configured as users configure them.

The bot runs with `SWITCHBOARD_MODEL=openai/gpt-4o-mini`, `OPENAI_API_BASE` pointing at a local
OpenAI-protocol server that reports usage, and `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a local
OTLP/HTTP receiver that decodes what the exporter sends with opentelemetry-proto. One mention
must give one trace of linked spans with the GenAI usage the server reported, a cost under its
agent and channel that matches litellm's price, and, with a tiny channel budget, the next
mention must get the budget notice without a model call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import litellm
import pytest

from bot.settings import load_settings
from localslack import LocalSlack
from tests.helpers.cli import switchboard
from tests.helpers.harness import LEADS, ask_for_refund, bot, card_decided, settings_for, settled
from tests.helpers.otlp_receiver import OTLPReceiver, ReceivedSpan, tree
from tests.helpers.providers.openai_server import OpenAIServer
from tests.helpers.providers.script import Call, Step

KEY = "sk-test-observability-secret"
QUESTION = "Why was invoice INV-1024 charged after we cancelled?"
SNAPSHOT = "gpt-4o-mini-2024-07-18"  # the model OpenAI says answered


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OTLPReceiver]:
    """An OTLP receiver, and the environment that sends traces to it (batches every 50 ms)."""
    otlp = await OTLPReceiver().start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    yield otlp
    await otlp.stop()


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAIServer]:
    server = OpenAIServer(answered_by=SNAPSHOT)
    await server.start()
    monkeypatch.setenv("SWITCHBOARD_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_BASE", server.api_base)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield server
    await server.stop()


def with_budget(tmp_path: Path, per_channel: float) -> Path:
    """A switchboard.toml as an operator writes it: who approves, and a channel budget."""
    path = tmp_path / "switchboard.toml"
    path.write_text(
        f'[approvals.default]\ngroups = ["{LEADS}"]\n\n'
        f"[budgets]\nper_channel_daily_usd = {per_channel}\n"
    )
    return path


def one_trace(spans: list[ReceivedSpan], thread_ts: str) -> list[ReceivedSpan]:
    """The spans of the trace of the turn that answered in this thread."""
    turns = [s for s in spans if s.name == "turn" and s.attributes["slack.thread_ts"] == thread_ts]
    if not turns:
        return []
    return [s for s in spans if s.trace_id == turns[0].trace_id]


def stats_json(database_url: str, config: Path) -> dict[str, Any]:
    result = switchboard(
        "stats",
        "--since",
        "1d",
        "--json",
        env={"DATABASE_URL": database_url, "SWITCHBOARD_CONFIG": str(config)},
        cwd=config.parent,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


async def test_one_mention_one_trace_its_cost_and_then_the_budget(
    slack: LocalSlack,
    sqlite_url: str,
    tmp_path: Path,
    receiver: OTLPReceiver,
    provider: OpenAIServer,
) -> None:
    provider.script(
        Step(
            calls=(Call.of("explain_charge", invoice="INV-1024"),),
            prompt_tokens=1200,
            completion_tokens=20,
        ),
        Step(
            text="INV-1024 was charged on renewal, before the cancellation.",
            prompt_tokens=1500,
            completion_tokens=20,
        ),
    )
    config = with_budget(tmp_path, 0.0001)
    settings = settings_for(slack, sqlite_url, tmp_path, file=load_settings(str(config)).file)
    assert settings.env.model == "openai/gpt-4o-mini" and settings.env.traces_on
    async with bot(slack, settings) as running:
        ts = await slack.post("bob", "support", f"<@{slack.bot_user_id}> {QUESTION}")
        await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        await settled(running)
        provider.assert_done()
        spans = await receiver.wait_for(
            lambda got: any(s.name == "slack chat.stopStream" for s in one_trace(got, ts))
        )
        trace = one_trace(spans, ts)
        print(f"\nThe trace of one mention, as the receiver decoded it:\n{tree(trace)}")

        # Second mention in the same channel: over the channel's budget, no model call.
        second = await slack.post("bob", "support", f"<@{slack.bot_user_id}> {QUESTION}")
        notice = await slack.wait_for_bot_message("support", thread_ts=second, within=20)
        third = await slack.post("cara", "support", f"<@{slack.bot_user_id}> {QUESTION}")
        await slack.wait_for_bot_message("support", thread_ts=third, within=20)
        await settled(running)
        metrics = running.board.metrics.render().decode()

    # One trace, every span linked to its parent within it, from intake to the post.
    names = [s.name for s in trace]
    assert len(trace) >= 5
    ids = {s.span_id for s in trace}
    roots = [s for s in trace if not s.parent_id]
    assert len(roots) == 1 and roots[0].name.startswith("slack.event ")
    assert roots[0].attributes["slack.thread_ts"] == ts
    assert all(s.parent_id in ids for s in trace if s.parent_id)
    for name in ("turn", "route", "invoke_agent billing", "execute_tool explain_charge"):
        assert name in names, names
    # The answer streamed into the thread: its Web API calls are in the trace too.
    assert {"slack chat.startStream", "slack chat.stopStream"} <= set(names), names
    assert {s.resource.get("service.name") for s in trace} == {"switchboard"}

    # The GenAI attributes are the usage the server returned.
    calls = sorted((s for s in trace if s.name == "chat gpt-4o-mini"), key=lambda s: s.start_ns)
    assert [
        (s.attributes["gen_ai.usage.input_tokens"], s.attributes["gen_ai.usage.output_tokens"])
        for s in calls
    ] == [(1200, 20), (1500, 20)]
    for span in calls:
        assert span.kind == "CLIENT"
        assert span.attributes["gen_ai.provider.name"] == "openai"
        assert span.attributes["gen_ai.system"] == "openai"
        assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert span.attributes["gen_ai.response.model"] == SNAPSHOT
        assert span.attributes["gen_ai.operation.name"] == "chat"
    route = next(s for s in trace if s.name == "route")
    assert route.attributes["switchboard.route"] == "billing"
    assert {"switchboard.route.confidence", "switchboard.route.source"} <= set(route.attributes)

    # No message content, and no key, anywhere in what was exported.
    exported = json.dumps([s.attributes for s in receiver.spans])
    assert "gen_ai.input.messages" not in exported and "INV-1024 was charged" not in exported
    assert "cancelled" not in exported and KEY not in exported

    # Its cost, under its agent and channel, is litellm's price for what the server reported.
    price = sum(
        sum(litellm.cost_per_token(model=SNAPSHOT, prompt_tokens=i, completion_tokens=20))
        for i in (1200, 1500)
    )
    assert sum(s.attributes["switchboard.cost_usd"] for s in calls) == pytest.approx(price)
    stats = stats_json(sqlite_url, config)
    channel = slack.workspace.channel("support").id
    assert stats["by_agent"]["billing"]["cost_usd"] == pytest.approx(price)
    assert stats["by_model"]["openai/gpt-4o-mini"]["model_calls"] == 2
    assert list(stats["by_model"]) == ["openai/gpt-4o-mini"]  # the offline model is free
    assert stats["by_channel"][channel]["cost_usd"] == pytest.approx(price)
    assert stats["by_channel"][channel]["turns"] == 3
    assert stats["budgets"]["per_channel_daily_usd"]["channels"][0]["reached"] is True

    # Over the channel's budget: the notice, and the provider was not asked again.
    assert str(notice["text"]).endswith(
        "_Budget reached: the channel's daily budget ($0.000100, `budgets.per_channel_daily_usd`)"
        " is spent, so the offline model answered._"
    )
    assert len(provider.requests) == 2
    # The operator was told once, in the on-call channel, though two turns found it spent.
    alerts = [
        m for m in slack.history("oncall") if "Model budget reached" in str(m.get("text", ""))
    ]
    assert len(alerts) == 1
    assert 'switchboard_llm_cost_usd_total{agent="billing",model="openai/gpt-4o-mini"}' in metrics
    assert 'switchboard_llm_tokens_total{agent="billing",kind="input"' in metrics


async def test_the_click_on_an_approval_links_to_the_turn_that_asked(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, receiver: OTLPReceiver
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path)
    async with bot(slack, settings) as running:
        ts, card, approval_id = await ask_for_refund(slack)
        await slack.click("alice", "support", card["ts"], "approval_approve")
        await card_decided(slack, ts, card["ts"])
        await slack.wait_for_bot_message("support", thread_ts=ts, after_ts=card["ts"], within=20)
        await settled(running)
        spans = await receiver.wait_for(
            lambda got: any(
                s.name == "approval.approve"
                and any(x.name.startswith("slack chat.") for x in got if x.trace_id == s.trace_id)
                for s in got
            )
        )
    asked = next(
        s
        for s in spans
        if s.name == "approval.request" and s.attributes["switchboard.approval.id"] == approval_id
    )
    click = next(s for s in spans if s.name == "approval.approve")
    assert not click.parent_id and click.trace_id != asked.trace_id
    assert click.links == [(asked.trace_id, asked.span_id)]
    assert click.attributes["switchboard.approval.status"] == "executed"
    decided = [s.name for s in spans if s.trace_id == click.trace_id]
    assert "execute_tool issue_refund" in decided
    assert "invoke_agent billing" in decided  # the agent's follow-up
    assert "slack chat.update" in decided  # the card
    asking = [s.name for s in spans if s.trace_id == asked.trace_id]
    assert asking[-1] != "approval.request" or "turn" in asking
    assert {"turn", "invoke_agent billing"} <= set(asking)
