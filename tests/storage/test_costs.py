"""Model-call costs summed per thread, channel, agent, model and day, on SQLite and PostgreSQL;
and the trace context that rows continued elsewhere carry."""

from __future__ import annotations

from datetime import timedelta

from storage.approvals import NewApproval
from storage.columns import utcnow
from storage.costs import NewModelCall, TurnCalls
from storage.memory import RouteRecord
from storage.outbox import Outgoing
from storage.store import Store

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def call(agent: str, cost: float, model: str = "openai/gpt-4o-mini") -> NewModelCall:
    return NewModelCall(
        agent=agent,
        model=model,
        input_tokens=100,
        output_tokens=20,
        cost_usd=cost,
        response_model="gpt-4o-mini-2024-07-18",
    )


async def test_budgets_read_the_channels_and_everyones_day_and_the_threads_whole_life(
    store: Store,
) -> None:
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(hours=1)
    await store.costs.record(
        TurnCalls(
            turn="Ev1", team_id="T1", channel="C1", thread_ts="1.0", calls=[call("billing", 0.5)]
        ),
        at=yesterday,
    )
    await store.costs.record(
        TurnCalls(
            turn="Ev2",
            team_id="T1",
            channel="C1",
            thread_ts="1.0",
            calls=[call("router", 0.1), call("billing", 0.2)],
        ),
        at=now,
    )
    await store.costs.record(
        TurnCalls(
            turn="Ev3", team_id="T1", channel="C1", thread_ts="2.0", calls=[call("technical", 0.3)]
        ),
        at=now,
    )
    await store.costs.record(
        TurnCalls(
            turn="Ev4", team_id="T1", channel="C2", thread_ts="3.0", calls=[call("triage", 1.0)]
        ),
        at=now,
    )
    await store.costs.record(
        TurnCalls(turn="Ev5", team_id="T1", channel="C2", thread_ts="3.0", calls=[]), at=now
    )  # writes nothing

    spent = await store.costs.spent("C1", "1.0", today)
    assert (round(spent.channel_today, 6), round(spent.thread, 6), round(spent.total_today, 6)) == (
        0.6,
        0.8,
        1.6,
    )
    calls, cost = await store.costs.since(today)
    assert (calls, round(cost, 6)) == (4, 1.6)
    channels = await store.costs.top_channels(today)
    assert [(c.channel, c.calls, round(c.cost_usd, 6)) for c in channels] == [
        ("C2", 1, 1.0),
        ("C1", 3, 0.6),
    ]
    threads = await store.costs.top_threads(limit=2)
    assert [(t.channel, t.thread_ts, round(t.cost_usd, 6)) for t in threads] == [
        ("C2", "3.0", 1.0),
        ("C1", "1.0", 0.8),
    ]


async def test_stats_by_channel_agent_model_and_day(store: Store) -> None:
    now = utcnow()
    for channel, ts, route in (("C1", "1.0", "billing"), ("C2", "2.0", "technical")):
        thread = await store.memory.thread("T1", channel, ts)
        assert thread.id is not None
        decided = RouteRecord(
            routes=[{"route": route, "confidence": 0.9}],
            confidence=0.9,
            source="classifier",
            reason="t",
        )
        await store.memory.append(thread.id, role="user", text="q", route=decided)
        await store.memory.append(thread.id, role="assistant", agent=route, text="a")
    await store.costs.record(
        TurnCalls(
            turn="Ev1",
            team_id="T1",
            channel="C1",
            thread_ts="1.0",
            calls=[call("router", 0.01), call("billing", 0.04)],
        )
    )
    await store.costs.record(
        TurnCalls(
            turn="Ev2",
            team_id="T1",
            channel="C2",
            thread_ts="2.0",
            calls=[call("technical", 0.5, "anthropic/claude")],
        )
    )
    await store.approvals.create(
        NewApproval(
            channel="C1",
            thread_ts="1.0",
            agent="billing",
            tool="issue_refund",
            arguments={},
            summary="Refund",
            rationale="",
            requester="U1",
            approvers=["U2"],
            expires_at=now + timedelta(hours=1),
        )
    )
    stats = await store.stats.since(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert (stats.total.turns, stats.total.replies, stats.total.model_calls) == (2, 2, 3)
    assert (stats.total.input_tokens, stats.total.output_tokens) == (300, 60)
    assert round(stats.total.cost_usd, 6) == 0.55 and stats.total.approvals == 1
    assert list(stats.by_channel) == ["C2", "C1"]  # costliest first
    c1 = stats.by_channel["C1"]
    assert (c1.turns, c1.replies, c1.model_calls, round(c1.cost_usd, 6), c1.approvals) == (
        1,
        1,
        2,
        0.05,
        1,
    )
    billing = stats.by_agent["billing"]
    assert (billing.replies, billing.model_calls, round(billing.cost_usd, 6)) == (1, 1, 0.04)
    assert billing.approvals == 1 and stats.by_agent["router"].model_calls == 1
    assert round(stats.by_model["anthropic/claude"].cost_usd, 6) == 0.5
    assert [round(d.cost_usd, 6) for d in stats.by_day.values()] == [0.55]
    assert {k: round(v.cost_usd, 6) for k, v in stats.by_thread.items()} == {
        "C2 2.0": 0.5,
        "C1 1.0": 0.05,
    }
    assert list(stats.by_thread) == ["C2 2.0", "C1 1.0"]
    assert sorted(stats.routes) == [("billing", "classifier", 1), ("technical", "classifier", 1)]
    assert stats.approvals_by_status == {"pending": 1}
    later = await store.stats.since(now + timedelta(hours=1), now + timedelta(hours=2))
    assert later.total.model_calls == 0 and later.by_channel == {}


async def test_rows_continued_elsewhere_carry_the_trace_context_of_their_writer(
    store: Store,
) -> None:
    traced = Store.over(store.db, trace_context=lambda: TRACEPARENT)
    row_id = await traced.inbox.record(event_id="Ev1", kind="app_mention", payload={})
    assert row_id is not None
    inbox = await store.inbox.get(row_id)
    assert inbox is not None and inbox.trace_context == TRACEPARENT
    [outbox_id] = await traced.outbox.enqueue_many(
        [Outgoing(dedupe_key="turn:Ev1:0", channel="C1", text="hi")]
    )
    assert outbox_id is not None
    outbox = await store.outbox.get(outbox_id)
    assert outbox is not None and outbox.trace_context == TRACEPARENT
    approval = await traced.approvals.create(
        NewApproval(
            channel="C1",
            thread_ts="1.0",
            agent="billing",
            tool="issue_refund",
            arguments={},
            summary="Refund",
            rationale="",
            requester="U1",
            approvers=["U2"],
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    assert approval.trace_context == TRACEPARENT
    # Without tracing wired, nothing is carried.
    plain = await store.inbox.record(event_id="Ev2", kind="app_mention", payload={})
    assert plain is not None and (await store.inbox.get(plain)).trace_context is None  # type: ignore[union-attr]
