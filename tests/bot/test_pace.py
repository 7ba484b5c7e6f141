"""Acks first: slow recording lowers how many turns run, quick recording raises it again."""

from __future__ import annotations

import asyncio
import itertools

from bot.slack.pace import STEP, Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += STEP


def slowed(pace: Pace, clock: Clock, *, times: int) -> None:
    for _ in range(times):
        clock.tick()
        pace.recorded(0.050)


async def test_slow_recording_lowers_the_turns_allowed_but_never_below_the_floor() -> None:
    clock = Clock()
    pace = Pace(16, floor=4, clock=clock)
    slowed(pace, clock, times=3)
    assert 4 < pace.allowed < 16
    slowed(pace, clock, times=20)
    assert pace.allowed == 4


async def test_a_turn_beyond_the_allowed_waits_for_one_to_finish() -> None:
    clock = Clock()
    pace = Pace(16, floor=2, clock=clock)
    slowed(pace, clock, times=20)
    assert pace.allowed == 2
    await pace.start()
    await pace.start()
    third = asyncio.create_task(pace.start())
    await asyncio.sleep(0)
    assert not third.done()
    assert pace.running == 2
    pace.done()
    async with asyncio.timeout(1):
        await third
    assert pace.running == 2


async def test_quick_recording_raises_it_back_one_step_at_a_time() -> None:
    clock = Clock()
    pace = Pace(8, floor=2, clock=clock)
    slowed(pace, clock, times=20)
    assert pace.allowed == 2
    seen = []
    for _ in range(40):
        clock.tick()
        pace.recorded(0.001)
        seen.append(pace.allowed)
    assert seen[-1] == 8
    assert all(b - a <= 1 for a, b in itertools.pairwise(seen))  # no burst


async def test_changes_are_spaced_so_one_burst_does_not_empty_the_window() -> None:
    clock = Clock()
    pace = Pace(16, floor=2, clock=clock)
    clock.tick()
    for _ in range(50):  # fifty slow events inside one step
        pace.recorded(0.050)
    assert pace.allowed == 12


async def test_with_no_events_for_a_while_turns_run_at_full_concurrency_again() -> None:
    clock = Clock()
    pace = Pace(16, floor=1, quiet=0.01, clock=clock)
    slowed(pace, clock, times=30)
    await pace.start()
    waiting = asyncio.create_task(pace.start())
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.now += 5  # five seconds without an event
    async with asyncio.timeout(2):  # it looks again after `quiet`
        await waiting
    assert pace.allowed == 16
    assert pace.running == 2


async def test_never_more_than_the_configured_concurrency() -> None:
    pace = Pace(2)
    async with pace, pace:
        third = asyncio.create_task(pace.start())
        await asyncio.sleep(0)
        assert not third.done()
    async with asyncio.timeout(1):
        await third
    assert pace.running == 1
