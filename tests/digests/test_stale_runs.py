"""A digest run whose process died mid-run is retried once its lease lapses, and posted once."""

from __future__ import annotations

from datetime import timedelta

from bot.digests.scheduler import DigestScheduler, ManualClock
from localslack import LocalSlack
from storage.store import Store
from tests.helpers.digest_scenario import END, START, seed
from tests.helpers.digests import DAILY, digest_messages, digests_for


async def crashed_run(store: Store, clock: ManualClock) -> int:
    """What a process that died after starting the run leaves behind."""
    run = await store.digests.start(
        "daily",
        period_start=START,
        period_end=END,
        channel=DAILY.channel,
        owner="dead-process",
        lease=timedelta(minutes=2),
        now=clock(),
    )
    assert run is not None and run.id is not None
    return run.id


async def test_the_leader_retries_a_stale_run_once_its_lease_lapses(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    await seed(sqlite_store)
    clock = ManualClock(END + timedelta(minutes=1))
    run_id = await crashed_run(sqlite_store, clock)
    async with digests_for(sqlite_store, slack, clock) as digests:
        scheduler = DigestScheduler(
            sqlite_store, digests.run_scheduled, [DAILY], clock=clock, retry=digests.retry
        )
        try:
            await scheduler.step()
            await scheduler.tick()
            assert digest_messages(slack) == [], "the run's lease is live: someone is on it"
            clock.advance(timedelta(minutes=2))
            await scheduler.step()
            await scheduler.tick()
        finally:
            await scheduler.stop()
    [run] = await sqlite_store.digests.runs("daily")
    assert (run.id, run.status) == (run_id, "posted")
    assert len(digest_messages(slack)) == 1
    assert await sqlite_store.digests.stale(now=clock()) == []


async def test_a_live_run_is_not_taken_over_and_a_stale_one_is(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    await seed(sqlite_store)
    clock = ManualClock(END + timedelta(seconds=10))
    await crashed_run(sqlite_store, clock)
    async with digests_for(sqlite_store, slack, clock) as digests:
        busy = await digests.run_scheduled("daily", END)
        clock.advance(timedelta(minutes=3))
        taken = await digests.run_scheduled("daily", END)
    assert busy is not None and busy.status == "already"
    assert taken is not None and taken.status == "posted"
    assert len(digest_messages(slack)) == 1
