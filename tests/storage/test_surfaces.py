"""Home viewers, assistant threads and the day's activity, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.columns import utcnow
from storage.memory import RouteRecord, StoredUsage
from storage.store import Store


async def test_one_publish_per_interval_whoever_claims(store: Store) -> None:
    now = utcnow()
    await store.home_views.opened("U1", "T1", now=now)
    wins = await asyncio.gather(
        *(store.home_views.claim("U1", timedelta(seconds=5), now=now) for _ in range(6))
    )
    assert sorted(wins) == [False] * 5 + [True]
    assert not await store.home_views.claim(
        "U1", timedelta(seconds=5), now=now + timedelta(seconds=4)
    )
    assert await store.home_views.claim("U1", timedelta(seconds=5), now=now + timedelta(seconds=5))
    assert not await store.home_views.claim("U2", timedelta(seconds=5), now=now)  # never opened
    await store.home_views.opened("U1", "T1", now=now + timedelta(hours=1))
    viewers = await store.home_views.viewers(now + timedelta(minutes=30))
    assert [v.user_id for v in viewers] == ["U1"]


async def test_an_assistant_thread_is_recorded_and_titled_once(store: Store) -> None:
    first = await store.assistant_threads.started(
        team_id="T1", channel="D1", thread_ts="1.0", user_id="U1", context="C1"
    )
    again = await store.assistant_threads.started(
        team_id="T1", channel="D1", thread_ts="1.0", user_id="U1", context="C1"
    )
    assert (first, again) == (True, False)
    titled = await asyncio.gather(
        *(store.assistant_threads.claim_title("D1", "1.0", f"title {n}") for n in range(4))
    )
    assert sorted(titled) == [False, False, False, True]
    thread = await store.assistant_threads.get("D1", "1.0")
    assert thread is not None and thread.title == f"title {titled.index(True)}"
    assert thread.context_channel == "C1"


async def test_the_days_turns_by_route_with_the_cost_of_their_replies(store: Store) -> None:
    thread = await store.memory.thread("T1", "C1", "1.0")
    assert thread.id is not None
    for route in ("billing", "billing", "technical"):
        decided = RouteRecord(
            routes=[{"route": route, "confidence": 1.0}],
            confidence=1.0,
            source="rule",
            reason="test",
        )
        await store.memory.append(thread.id, role="user", text="q", route=decided)
        spent = StoredUsage(prompt_tokens=10, cost_usd=0.25)
        await store.memory.append(thread.id, role="assistant", agent=route, text="a", usage=spent)
    rows = await store.activity.by_route(utcnow() - timedelta(hours=1), utcnow())
    assert [(r.route, r.turns, r.replies, r.tokens, r.cost_usd) for r in rows] == [
        ("billing", 2, 2, 20, 0.5),
        ("technical", 1, 1, 10, 0.25),
    ]
    assert await store.activity.by_route(utcnow() + timedelta(hours=1), utcnow()) == []
