"""The scheduler against a controllable clock: it fires at the cron time, catches up once after
a restart, and two schedulers on PostgreSQL post a period once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.config_file import DigestConfig
from bot.digests.scheduler import DigestScheduler, ManualClock, crontab_weekdays
from bot.digests.service import Sent
from localslack import LocalSlack
from storage.database import Database
from storage.store import Store
from tests.helpers.digest_scenario import seed
from tests.helpers.digests import DAILY, digest_messages, digests_for

EVERY_DAY = DigestConfig(
    name="daily", channel="C0SUPPORT", cron="0 9 * * *", timezone="Europe/Berlin", window="24h"
)


def utc(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[Store]:
    db = Database(postgres_url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    store = Store.over(db)
    yield store
    await store.close()


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("*", "*"),
        ("mon-fri", "mon-fri"),
    ],
)
def test_cron_weekdays_mean_what_they_mean_in_crontab(field: str, days: str) -> None:
    assert crontab_weekdays(field) == days


async def test_the_schedule_fires_at_its_cron_time(sqlite_store: Store) -> None:
    clock = ManualClock(utc(2, 28, 12))  # a Saturday
    fired: list[datetime] = []

    async def fire(name: str, when: datetime) -> None:
        fired.append(when)

    scheduler = DigestScheduler(sqlite_store, fire, [DAILY], clock=clock, owner="only")
    assert await scheduler.step()
    try:
        # 09:00 in Berlin on weekdays: Monday 2 March at 08:00 UTC, the weekend skipped.
        assert await scheduler.next_runs() == {"daily": utc(3, 2, 8)}
        clock.now = utc(3, 2, 7, 59, 59)
        await scheduler.tick()
        assert fired == []
        clock.advance(timedelta(seconds=1))
        await scheduler.tick()
        assert fired == [utc(3, 2, 8)]
        await scheduler.tick()
        assert fired == [utc(3, 2, 8)]
        assert await scheduler.next_runs() == {"daily": utc(3, 3, 8)}
    finally:
        await scheduler.stop()
    assert await sqlite_store.leases.holder("scheduler", now=clock()) is None


async def test_a_restart_across_missed_runs_posts_once(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    await seed(sqlite_store)
    clock = ManualClock(utc(2, 27, 12))
    async with digests_for(sqlite_store, slack, clock, [EVERY_DAY]) as digests:
        before = DigestScheduler(
            sqlite_store, digests.run_scheduled, [EVERY_DAY], clock=clock, owner="before"
        )
        assert await before.step()
        await before.stop()  # down from Friday noon: Saturday, Sunday and Monday are missed
        clock.now = utc(3, 2, 8, 30)
        after = DigestScheduler(
            sqlite_store, digests.run_scheduled, [EVERY_DAY], clock=clock, owner="after"
        )
        assert await after.step()
        await after.tick()
        await after.tick()
        assert await after.next_runs() == {"daily": utc(3, 3, 8)}
        await after.stop()
    assert len(digest_messages(slack)) == 1
    [run] = await sqlite_store.digests.runs("daily")
    assert (run.status, run.period_start, run.period_end) == ("posted", utc(3, 1, 8), utc(3, 2, 8))


async def test_a_run_missed_by_more_than_its_window_is_not_posted_late(
    sqlite_store: Store,
) -> None:
    clock = ManualClock(utc(2, 26, 12))  # Thursday noon; Friday 08:00 will be missed
    fired: list[datetime] = []

    async def fire(name: str, when: datetime) -> None:
        fired.append(when)

    first = DigestScheduler(sqlite_store, fire, [DAILY], clock=clock, owner="a")
    await first.step()
    await first.stop()
    clock.now = utc(3, 2, 7)  # Monday, before the day's run: Friday's is 71 hours late
    second = DigestScheduler(sqlite_store, fire, [DAILY], clock=clock, owner="b")
    await second.step()
    await second.tick()
    assert fired == []
    assert await second.next_runs() == {"daily": utc(3, 2, 8)}
    await second.stop()


async def test_two_schedulers_on_postgresql_post_once(pg_store: Store, slack: LocalSlack) -> None:
    await seed(pg_store)
    clock = ManualClock(utc(3, 2, 7))
    outcomes: list[Sent | None] = []
    async with digests_for(pg_store, slack, clock) as digests:

        async def fire(name: str, when: datetime) -> None:
            outcomes.append(await digests.run_scheduled(name, when))

        ttl = timedelta(seconds=60)
        a = DigestScheduler(pg_store, fire, [DAILY], clock=clock, owner="a", lease_ttl=ttl)
        b = DigestScheduler(pg_store, fire, [DAILY], clock=clock, owner="b", lease_ttl=ttl)
        try:
            assert await a.step() and not await b.step()  # one replica schedules
            clock.advance(timedelta(minutes=2))  # a stalls and its lease runs out ...
            assert await b.step()  # ... so b takes over while a still has its scheduler
            assert a.leading and b.leading
            clock.now = utc(3, 2, 8, 0, 5)
            await asyncio.gather(a.tick(), b.tick())
        finally:
            await a.stop()
            await b.stop()
        # And when both fire for one period at the same moment, the unique run decides.
        both = await asyncio.gather(
            digests.run_scheduled("daily", utc(3, 3, 8)),
            digests.run_scheduled("daily", utc(3, 3, 8)),
        )
    assert [o.status for o in outcomes if o is not None].count("posted") == 1
    assert sorted(s.status for s in both if s is not None) == ["already", "posted"]
    assert len(digest_messages(slack)) == 2  # one per period
    runs = await pg_store.digests.runs("daily")
    assert sorted(r.period_end for r in runs) == [utc(3, 2, 8), utc(3, 3, 8)]
