"""Where people see cost: `/switchboard status`, `switchboard stats` and the operator's alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.spend_budget import BudgetReached, SpendBudgets
from bot.cli.stats import as_object, as_text, budget_use
from bot.commands import StatusCommand
from bot.slack.budget_alerts import BudgetAlerts
from router.decision import RouteChoice, RouteDecision
from router.turn import Reply
from storage.columns import utcnow
from storage.costs import NewModelCall, TurnCalls
from storage.store import Store


def spent(cost: float) -> list[NewModelCall]:
    return [
        NewModelCall(
            agent="billing",
            model="openai/gpt-4o-mini",
            input_tokens=1000,
            output_tokens=100,
            cost_usd=cost,
        )
    ]


async def test_status_shows_todays_cost_and_the_budgets_use(sqlite_store: Store) -> None:
    store = sqlite_store
    await store.costs.record(
        TurnCalls(turn="Ev1", team_id="T1", channel="C1", thread_ts="1.0", calls=spent(0.25))
    )
    await store.costs.record(
        TurnCalls(turn="Ev2", team_id="T1", channel="C2", thread_ts="2.0", calls=spent(0.5))
    )
    await store.costs.record(
        TurnCalls(turn="Ev0", team_id="T1", channel="C1", thread_ts="0.5", calls=spent(9.0)),
        at=utcnow() - timedelta(days=2),
    )
    budgets = SpendBudgets(per_channel_daily_usd=0.25, total_daily_usd=3.0)
    text = await StatusCommand(store, "openai/gpt-4o-mini", None, budgets)("", "U1", "C1")
    assert "• Model cost today (UTC): $0.7500 in 2 calls · daily budget $3.00, 25% used" in text
    assert (
        "◦ This channel: $0.2500 · its daily budget $0.25, spent: the offline model answers" in text
    )
    plain = await StatusCommand(store, "offline/triage")("", "U1", "C1")
    assert "• Model cost today (UTC): $0.7500 in 2 calls" in plain and "budget" not in plain


async def test_stats_show_budget_use_in_words_and_json(sqlite_store: Store) -> None:
    store = sqlite_store
    await store.costs.record(
        TurnCalls(turn="Ev1", team_id="T1", channel="C1", thread_ts="1.0", calls=spent(0.25))
    )
    now = utcnow()
    figures = await store.stats.since(now - timedelta(days=7), now + timedelta(seconds=1))
    use = await budget_use(store, SpendBudgets(0.2, 1.0, 10.0))
    data = as_object(figures, use)
    assert data["by_agent"]["billing"]["cost_usd"] == 0.25
    assert data["by_channel"]["C1"]["model_calls"] == 1
    assert data["budgets"]["total_daily_usd"] == {
        "limit_usd": 10.0,
        "spent_usd": 0.25,
        "used": 0.025,
        "reached": False,
    }
    assert data["budgets"]["per_channel_daily_usd"]["channels"][0]["reached"] is True
    assert data["budgets"]["per_thread_usd"]["threads"][0]["thread_ts"] == "1.0"
    text = as_text(figures, use, "7d")
    assert "By agent (router: the LLM route classifier)" in text
    assert "Costliest threads" in text and "C1 1.0" in text
    assert data["by_thread"]["C1 1.0"]["cost_usd"] == 0.25
    assert "  total_daily_usd: $0.250000 of $10.00 (2%)" in text
    assert "    C1: $0.250000 of $0.20, spent (the offline model answers)" in text
    assert "Budgets: none configured" in as_text(
        figures, await budget_use(store, SpendBudgets()), "7d"
    )


async def test_the_operator_is_told_once_a_day_per_budget_and_scope() -> None:
    alerts = BudgetAlerts("C0APPROVALS")
    decision = RouteDecision(routes=(RouteChoice("billing", 1.0),), source="rule", reason="test")
    reached = BudgetReached(
        budget="per_channel_daily_usd",
        limit_usd=5.0,
        spent_usd=5.12,
        channel="C0SUPPORT",
        thread_ts="1.0",
    )
    reply = Reply(text="text", agent="billing", parts=[], decision=decision, budget=reached)
    [alert] = await alerts.for_reply(reply)
    assert alert.channel == "C0APPROVALS"
    day = datetime.now(UTC).date()
    assert alert.dedupe_key == f"budget:per_channel_daily_usd:C0SUPPORT:{day}"
    assert "the channel's daily budget is spent in <#C0SUPPORT>" in alert.text
    assert "$5.120000 of $5.00 (`budgets.per_channel_daily_usd`)" in alert.text
    assert (
        await alerts.for_reply(Reply(text="text", agent="billing", parts=[], decision=decision))
        == []
    )
    total = alerts.alert(
        BudgetReached(budget="total_daily_usd", limit_usd=50.0, spent_usd=50.0),
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert total.dedupe_key == "budget:total_daily_usd:all:2026-03-01"
    assert "until midnight UTC (Mon 02 Mar)" in total.text
