"""Spending reservations on SQLite and PostgreSQL: totals per scope, atomic under concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.columns import utcnow
from storage.spend import Reservation
from storage.store import Store


async def test_reservations_add_up_per_scope(store: Store) -> None:
    since = utcnow() - timedelta(hours=24)
    spend = store.spending
    assert await spend.reserve([Reservation("k1", ("a", "b"), 6000)], limit=10000, since=since)
    assert not await spend.reserve([Reservation("k2", ("b",), 5000)], limit=10000, since=since)
    assert await spend.reserve([Reservation("k3", ("c",), 5000)], limit=10000, since=since)
    assert (await spend.total("a", since), await spend.total("b", since)) == (6000, 6000)


async def test_a_rerun_key_is_not_counted_twice_and_release_frees(store: Store) -> None:
    since = utcnow() - timedelta(hours=24)
    spend = store.spending
    hold = [Reservation("k1", ("a",), 9000)]
    assert await spend.reserve(hold, limit=10000, since=since)
    assert await spend.reserve(hold, limit=10000, since=since)
    assert await spend.total("a", since) == 9000
    await spend.release("k1")
    assert await spend.total("a", since) == 0


async def test_fifty_concurrent_reservations_never_pass_the_limit(store: Store) -> None:
    since = utcnow() - timedelta(hours=24)
    results = await asyncio.gather(
        *(
            store.spending.reserve([Reservation(f"k{n}", ("acct",), 990)], limit=10000, since=since)
            for n in range(50)
        )
    )
    assert sum(results) == 10 and await store.spending.total("acct", since) == 9900
