"""Digest runs on both databases: one per period, leased while running, taken over when stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.store import Store

START = datetime(2026, 3, 1, 8, tzinfo=UTC)
END = START + timedelta(days=1)
LEASE = timedelta(minutes=2)


async def test_a_run_is_leased_then_taken_over_only_once_its_lease_lapses(store: Store) -> None:
    runs = store.digests
    first = await runs.start(
        "daily", period_start=START, period_end=END, channel="C1", owner="a", lease=LEASE, now=END
    )
    assert first is not None and first.id is not None
    during = END + timedelta(minutes=1)
    assert (
        await runs.start(
            "daily",
            period_start=START,
            period_end=END,
            channel="C1",
            owner="b",
            lease=LEASE,
            now=during,
        )
        is None
    )
    assert await runs.stale(now=during) == []
    await runs.renew(first.id, "a", LEASE, now=during)
    still = END + timedelta(minutes=2, seconds=30)  # past the first lease, within the renewed one
    assert await runs.stale(now=still) == []
    later = END + timedelta(minutes=4)
    [stale] = await runs.stale(now=later)
    assert stale.id == first.id
    taken = await runs.start(
        "daily", period_start=START, period_end=END, channel="C1", owner="b", lease=LEASE, now=later
    )
    assert taken is not None and taken.id == first.id
    assert (
        await runs.start(
            "daily",
            period_start=START,
            period_end=END,
            channel="C1",
            owner="c",
            lease=LEASE,
            now=later,
        )
        is None
    ), "b holds it now"
    await runs.finish(first.id, slack_ts="1.0")
    assert await runs.stale(now=later + timedelta(hours=1)) == []
    assert (
        await runs.start(
            "daily", period_start=START, period_end=END, channel="C1", owner="d", now=later
        )
        is None
    ), "a posted period is never started again"
