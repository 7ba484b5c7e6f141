"""APScheduler 3 adapted to an asyncio app whose job store is synchronous.

Two departures from a stock `AsyncIOScheduler`, both because APScheduler 3's job store is
synchronous. Job processing runs on a worker thread: on SQLite, a blocking write on the event
loop could wait for a lock that a suspended async transaction holds, and neither would move.
And a small executor runs each job as a coroutine back on the loop, passing the cron time it
was scheduled for: that time, not the time it happened to run, decides the digest's period,
which is what makes two schedulers agree on it. Time comes from an injected clock throughout,
so tests move it by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from functools import partial
from threading import TIMEOUT_MAX
from typing import Any

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED

log = structlog.stdlib.get_logger(__name__)

Clock = Callable[[], datetime]
Fire = Callable[[str, datetime], Awaitable[object]]


class CoroutineExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each due job as `fire(name, scheduled_time)` on the event loop, applying the
    misfire grace time by the scheduler's clock."""

    def __init__(self, fire: Fire, clock: Clock, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._fire, self._clock, self._loop = fire, clock, loop
        self.running: set[Future[list[Any]]] = set()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(job, run_times), self._loop)
        self.running.add(future)
        future.add_done_callback(partial(self._finished, job.id))

    async def _run(self, job: Any, run_times: list[datetime]) -> list[Any]:
        events = []
        for run_time in run_times:
            late = self._clock() - run_time
            grace = job.misfire_grace_time
            if grace is not None and late > timedelta(seconds=grace):
                log.warning("digest.missed", job=job.id, scheduled=str(run_time), late=str(late))
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, "default", run_time))
                continue
            try:
                await self._fire(job.args[0], run_time)
            except Exception as exc:
                log.exception("digest.job_failed", job=job.id, scheduled=str(run_time))
                events.append(
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, "default", run_time, exception=exc)
                )
            else:
                events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, "default", run_time))
        return events

    def _finished(self, job_id: str, future: Future[list[Any]]) -> None:
        self.running.discard(future)
        if future.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
        elif (exc := future.exception()) is not None:
            self._run_job_error(job_id, exc, exc.__traceback__)
        else:
            self._run_job_success(job_id, future.result())


class ClockedScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """AsyncIOScheduler that reads the injected clock and does job-store I/O off the loop."""

    def __init__(self, clock: Clock, **options: Any) -> None:
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__(**options)

    def wakeup(self) -> None:
        """Called by APScheduler from any thread; processing is started on the loop."""
        loop = self._eventloop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._stop_timer()
        if self.state == STATE_RUNNING:
            task = asyncio.get_running_loop().create_task(self.process())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def process(self) -> None:
        """Submit the due jobs, then set the timer for the next one."""
        try:
            wait = await asyncio.to_thread(self._process_jobs)
        except Exception:
            log.exception("scheduler.process_failed")
            wait = float(self.jobstore_retry_interval)
        if self.state == STATE_RUNNING:
            self._start_timer(wait)

    def _process_jobs(self) -> float | None:
        """APScheduler's own loop over the job stores, with `now` from the clock."""
        if self.state == STATE_PAUSED:
            return None
        now = self._clock()
        next_wakeup: datetime | None = None
        events: list[Any] = []
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    due = store.get_due_jobs(now)
                except Exception as exc:
                    log.warning("scheduler.jobstore_unreadable", error=str(exc))
                    retry = now + timedelta(seconds=self.jobstore_retry_interval)
                    next_wakeup = min(next_wakeup or retry, retry)
                    continue
                for job in due:
                    events += self._submit(job, alias, store, now)
                upcoming = store.get_next_run_time()
                if upcoming is not None and (next_wakeup is None or upcoming < next_wakeup):
                    next_wakeup = upcoming
        for event in events:
            self._dispatch_event(event)
        if next_wakeup is None or self.state != STATE_RUNNING:
            return None
        return float(min(max((next_wakeup - self._clock()).total_seconds(), 0), TIMEOUT_MAX))

    def _submit(self, job: Any, alias: str, store: Any, now: datetime) -> list[Any]:
        run_times = job._get_run_times(now)
        run_times = run_times[-1:] if run_times and job.coalesce else run_times
        if not run_times:
            return []
        events = []
        try:
            self._lookup_executor(job.executor).submit_job(job, run_times)
        except MaxInstancesReachedError:
            log.warning("scheduler.still_running", job=job.id)
            events.append(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, run_times))
        except Exception:
            log.exception("scheduler.submit_failed", job=job.id)
        else:
            events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times))
        following = job.trigger.get_next_fire_time(run_times[-1], now)
        if following is not None:
            job._modify(next_run_time=following)
            store.update_job(job)
        else:
            self.remove_job(job.id, alias)
        return events

    async def close(self) -> None:
        self._stop_timer()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.state != STATE_STOPPED:
            # AsyncIOScheduler.shutdown defers to the loop; shut down now, off the loop.
            await asyncio.to_thread(super(AsyncIOScheduler, self).shutdown, False)
