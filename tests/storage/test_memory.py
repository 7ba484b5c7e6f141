"""Thread memory: threads by key, messages with their route decisions, the token window."""

from __future__ import annotations

import asyncio

from storage.memory import RouteRecord, StoredUsage
from storage.store import Store


async def test_thread_is_created_once_per_key_even_when_racing(store: Store) -> None:
    threads = await asyncio.gather(*(store.memory.thread("T1", "C1", "1.0") for _ in range(10)))
    assert len({t.id for t in threads}) == 1
    other = await store.memory.thread("T1", "C1", "2.0")
    assert other.id != threads[0].id


async def test_message_keeps_route_decision_tool_calls_and_usage(store: Store) -> None:
    thread = await store.memory.thread("T1", "C1", "1.0")
    assert thread.id is not None
    route = RouteRecord(
        routes=[{"route": "billing", "confidence": 0.91}],
        confidence=0.91,
        source="classifier",
        reason="mentions an invoice and a refund",
    )
    await store.memory.append(thread.id, role="user", text="refund INV-1042 please", user_id="U1")
    saved = await store.memory.append(
        thread.id,
        role="assistant",
        agent="billing",
        text="Refund requested.",
        route=route,
        tool_calls=[{"tool": "lookup_invoice", "arguments": {"invoice": "INV-1042"}}],
        usage=StoredUsage(prompt_tokens=120, completion_tokens=30, cost_usd=0.0012),
        slack_ts="1.0002",
    )
    [user, assistant] = await store.memory.messages(thread.id)
    assert user.user_id == "U1" and user.role == "user"
    assert assistant.id == saved.id
    assert assistant.route_source == "classifier"
    assert assistant.route_reason == "mentions an invoice and a refund"
    assert assistant.routes == [{"route": "billing", "confidence": 0.91}]
    assert assistant.tool_calls == [
        {"tool": "lookup_invoice", "arguments": {"invoice": "INV-1042"}}
    ]
    assert (assistant.prompt_tokens, assistant.completion_tokens) == (120, 30)
    assert abs(assistant.cost_usd - 0.0012) < 1e-9
    reloaded = await store.memory.get_thread(thread.id)
    assert reloaded is not None and reloaded.agent == "billing"


async def test_window_keeps_newest_messages_within_budget_oldest_first(store: Store) -> None:
    thread = await store.memory.thread("T1", "C1", "1.0")
    assert thread.id is not None
    for i in range(200):
        await store.memory.append(thread.id, role="user", text=f"message {i}", tokens=10)
    window = await store.memory.window(thread.id, token_budget=95)
    assert [m.text for m in window.messages] == [f"message {i}" for i in range(191, 200)]
    assert window.tokens == 90
    everything = await store.memory.window(thread.id, token_budget=10_000)
    assert len(everything.messages) == 200 and everything.messages[0].text == "message 0"


async def test_summary_replaces_older_messages_and_counts_against_budget(store: Store) -> None:
    thread = await store.memory.thread("T1", "C1", "1.0")
    assert thread.id is not None
    ids = []
    for i in range(6):
        message = await store.memory.append(thread.id, role="user", text=f"m{i}", tokens=10)
        assert message.id is not None
        ids.append(message.id)
    await store.memory.replace_summary(
        thread.id, "the customer wants a refund", upto_message_id=ids[3], tokens=15
    )
    window = await store.memory.window(thread.id, token_budget=40)
    assert window.summary == "the customer wants a refund"
    assert [m.text for m in window.messages] == ["m4", "m5"]
    assert window.tokens == 35
    await store.memory.replace_summary(thread.id, "newer summary", upto_message_id=ids[5], tokens=5)
    window = await store.memory.window(thread.id, token_budget=40)
    assert window.summary == "newer summary" and window.messages == []


async def test_window_of_unknown_thread_is_empty(store: Store) -> None:
    window = await store.memory.window(999_999, token_budget=100)
    assert window.messages == [] and window.summary == ""


async def test_200_concurrent_appends_across_50_threads_keep_everything_in_order(
    store: Store,
) -> None:
    threads = [await store.memory.thread("T1", "C1", f"{n}.0") for n in range(50)]

    async def converse(thread_id: int) -> None:
        for i in range(4):
            await store.memory.append(thread_id, role="user", text=f"{thread_id}:{i}")

    await asyncio.gather(*(converse(t.id) for t in threads if t.id is not None))
    for thread in threads:
        assert thread.id is not None
        texts = [m.text for m in await store.memory.messages(thread.id)]
        assert texts == [f"{thread.id}:{i}" for i in range(4)]


async def test_rows_written_by_one_path_read_the_same_through_the_other(store: Store) -> None:
    """On SQLite, appends and windows take a one-hop path; the ORM must see identical rows."""
    from datetime import UTC, datetime, timedelta

    thread = await store.memory.thread("T1", "C1", "9.0")
    assert thread.id is not None
    before = datetime.now(UTC)
    saved = await store.memory.append(
        thread.id,
        role="assistant",
        agent="billing",
        text="Refund sent.",
        tool_calls=None,
        route=RouteRecord(
            routes=[{"route": "billing", "confidence": 0.9}],
            confidence=0.9,
            source="rule",
            reason="r",
        ),
    )
    [loaded] = await store.memory.messages(thread.id)
    assert loaded.id == saved.id and loaded.tool_calls is None
    assert loaded.routes == [{"route": "billing", "confidence": 0.9}]
    assert loaded.created_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= loaded.created_at <= datetime.now(UTC)
    reloaded = await store.memory.get_thread(thread.id)
    assert (
        reloaded is not None
        and reloaded.agent == "billing"
        and reloaded.updated_at >= before - timedelta(seconds=5)
    )
    window = await store.memory.window(thread.id, 100)
    assert [(m.id, m.role, m.agent, m.text) for m in window.messages] == [
        (saved.id, "assistant", "billing", "Refund sent.")
    ]
