"""The digest scheduler: APScheduler on the product's database, run by one replica at a time.

- Jobs live in APScheduler's SQLAlchemy job store, in the `apscheduler_jobs` table the migrations
  create. The store persists each job's next run time, so after a restart the scheduler knows
  what it missed. Jobs coalesce, and a run missed by less than its digest's window is still
  made: a restart after a missed run posts once (the latest missed period), not once per miss.
- One replica schedules: it holds the `scheduler` lease in the database and renews it; the
  others wait for it to lapse. Should two ever fire anyway (a stalled leader whose lease ran
  out), the digest run is unique per (digest, period start), so the period is posted once.
- A digest run whose process died stays `running` in the database; the leader retries it
  once the run's lease has lapsed (each round of `step`), so the period is still posted.
- Time comes from an injected clock, so tests move time by hand instead of sleeping.

The adaptations of APScheduler to this (a synchronous job store in an async app, the
scheduled time passed to the job) are in `bot.digests.engine`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import socket
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger

from bot.config_file import DigestConfig
from bot.digests.engine import Clock, ClockedScheduler, CoroutineExecutor, Fire
from storage.columns import utcnow
from storage.job_store import job_store
from storage.store import Store
from storage.tables import DigestRun

log = structlog.stdlib.get_logger(__name__)

LEASE = "scheduler"
JOB_PREFIX = "digest:"
EXECUTOR = "digests"
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

Retry = Callable[[DigestRun], Coroutine[Any, Any, Any]]


class ManualClock:
    """A clock that moves only when told: the scheduler's time in tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def scheduled_digest(name: str) -> None:
    """What a stored job names as its function. Jobs run through `CoroutineExecutor`, which
    passes the scheduled time too; calling this directly is a wiring mistake."""
    raise RuntimeError(f"digest job {name!r} must run through the digest scheduler's executor")


def crontab_weekdays(field: str) -> str:
    """Cron's day-of-week field in APScheduler 3's terms, where 0 means Monday, not Sunday.

    Numbers become day names (`1-5` → `mon,tue,wed,thu,fri`; 0 and 7 are Sunday), so
    `0 9 * * 1-5` runs on weekdays as it does in crontab. Names pass through unchanged.
    """
    parts = []
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if match is None:
            parts.append(part)
            continue
        first, last, step = match.groups()
        if first == "*" and step is None:
            return "*"
        low = 0 if first == "*" else int(first)
        high = 6 if first == "*" else int(last if last is not None else first)
        if step is not None and last is None and first != "*":
            high = 6
        days = range(low, high + 1, int(step or 1))
        parts.extend(_WEEKDAYS[d % 7] for d in days)
    return ",".join(dict.fromkeys(parts))


def cron_trigger(config: DigestConfig) -> Any:
    minute, hour, day, month, weekday = config.cron.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=ZoneInfo(config.timezone),
    )


class DigestScheduler:
    """Schedules the configured digests while this replica holds the scheduler lease.

    `run()` renews the lease every `renew_every` seconds and starts or stops APScheduler as the
    lease is won or lost; `step()` is one such round and `tick()` processes due jobs at once,
    which is how tests drive it with a `ManualClock`.
    """

    def __init__(
        self,
        store: Store,
        fire: Fire,
        configs: list[DigestConfig],
        *,
        clock: Clock = utcnow,
        owner: str | None = None,
        lease_ttl: timedelta = timedelta(seconds=60),
        renew_every: float = 20.0,
        retry: Retry | None = None,
    ) -> None:
        self.store = store
        self.fire = fire
        self.configs = list(configs)
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.lease_ttl = lease_ttl
        self.renew_every = renew_every
        self.retry = retry
        self._scheduler: ClockedScheduler | None = None
        self._executor: CoroutineExecutor | None = None
        self._retrying: dict[int, asyncio.Task[Any]] = {}

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    async def run(self) -> None:
        """Hold or wait for the lease until cancelled; then step down and release it."""
        try:
            while True:
                try:
                    await self.step()
                except Exception:  # e.g. the job store is unreachable: try again next round
                    log.exception("scheduler.step_failed", owner=self.owner)
                    await self._step_down()
                await asyncio.sleep(self.renew_every)
        finally:
            await self.stop()

    async def step(self) -> bool:
        """Renew or take the lease, and start or stop scheduling to match. True when leading."""
        try:
            held = await self.store.leases.acquire(
                LEASE, self.owner, self.lease_ttl, now=self.clock()
            )
        except Exception:
            log.exception("scheduler.lease_failed", owner=self.owner)
            held = False
        if held and not self.leading:
            await self._lead()
        elif not held and self.leading:
            log.warning("scheduler.lease_lost", owner=self.owner)
            await self._step_down()
        if held:
            await self._retry_stale()
        return held

    async def _retry_stale(self) -> None:
        """Start again the runs a dead process left `running`, each in its own task."""
        if self.retry is None:
            return
        for run in await self.store.digests.stale(now=self.clock()):
            if run.id is None or run.id in self._retrying:
                continue
            log.warning("scheduler.stale_run", digest=run.name, period=str(run.period_start))
            task = asyncio.create_task(self.retry(run))
            self._retrying[run.id] = task
            task.add_done_callback(functools.partial(self._retried, run.id))

    def _retried(self, run_id: int, task: asyncio.Task[Any]) -> None:
        self._retrying.pop(run_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning("scheduler.retry_failed", run_id=run_id)  # `deliver` logged why

    async def tick(self) -> None:
        """Process due jobs now and wait until the digest runs they started have finished."""
        if self._scheduler is None or self._executor is None:
            return
        await self._scheduler.process()
        running = [asyncio.wrap_future(f) for f in list(self._executor.running)]
        await asyncio.gather(*running, *self._retrying.values(), return_exceptions=True)

    async def next_runs(self) -> dict[str, datetime | None]:
        """Each scheduled digest's next run time, as the job store has it."""
        if self._scheduler is None:
            return {}
        jobs = await asyncio.to_thread(self._scheduler.get_jobs)
        return {
            job.id.removeprefix(JOB_PREFIX): (
                job.next_run_time.astimezone(UTC) if job.next_run_time else None
            )
            for job in jobs
        }

    async def stop(self) -> None:
        for task in list(self._retrying.values()):
            task.cancel()
        await asyncio.gather(*self._retrying.values(), return_exceptions=True)
        if self.leading:
            await self._step_down()
            with contextlib.suppress(Exception):
                await self.store.leases.release(LEASE, self.owner)

    async def _lead(self) -> None:
        loop = asyncio.get_running_loop()
        jobs = job_store(self.store.db)
        executor = CoroutineExecutor(self.fire, self.clock, loop)
        scheduler = ClockedScheduler(
            self.clock,
            event_loop=loop,
            timezone=UTC,
            jobstores={"default": jobs},
            executors={EXECUTOR: executor},
        )
        try:
            await asyncio.to_thread(scheduler.start, paused=True)
            await asyncio.to_thread(self._sync_jobs, scheduler)
        except Exception:
            await scheduler.close()
            jobs.shutdown()  # a scheduler that never started did not shut its store down
            raise
        self._scheduler, self._executor = scheduler, executor
        scheduler.resume()
        log.info("scheduler.leading", owner=self.owner, digests=[c.name for c in self.configs])

    def _sync_jobs(self, scheduler: Any) -> None:
        """Make the stored jobs match the config. A job whose schedule is unchanged keeps its
        stored next run time, so a run missed while no replica was up is still caught up."""
        now = self.clock()
        wanted = {JOB_PREFIX + c.name: c for c in self.configs}
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                scheduler.remove_job(job.id)
        for job_id, config in wanted.items():
            trigger = cron_trigger(config)
            grace = int(config.window.total_seconds())
            existing = scheduler.get_job(job_id)
            if (
                existing is not None
                and repr(existing.trigger) == repr(trigger)
                and existing.misfire_grace_time == grace
            ):
                continue
            scheduler.add_job(
                scheduled_digest,
                trigger,
                args=[config.name],
                id=job_id,
                name=f"digest {config.name}",
                executor=EXECUTOR,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=grace,
                max_instances=1,
                next_run_time=trigger.get_next_fire_time(None, now),
            )

    async def _step_down(self) -> None:
        scheduler, executor = self._scheduler, self._executor
        self._scheduler = self._executor = None
        if scheduler is not None:
            await scheduler.close()
        if executor is not None:
            running = [asyncio.wrap_future(f) for f in list(executor.running)]
            await asyncio.gather(*running, return_exceptions=True)
