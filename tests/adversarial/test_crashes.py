"""Kill the bot between every two writes of an approval's life: each effect happens exactly once.

A `Crasher` stands in for kill -9 inside the process: from the n-th database write (or right
after a side effect returns) every write fails, so nothing more is recorded; the bot is then
stopped and a new one started on the same database, ledger and workspace, as after a restart.
Each case sweeps n over every write of the scenario, so every gap between two writes is hit.
A real SIGKILL of a real process, while Slack holds the page, is in test_kill.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from localslack import LocalSlack
from tests.helpers.adversarial import World, config
from tests.helpers.crashes import QUICK, Crasher, after, arm
from tests.helpers.harness import bot, settings_for


@dataclass
class Count:
    """What one life of an approval left behind, counted by the last bot standing."""

    steps: int
    crashed: bool
    movements: int
    pages: int
    incidents: int
    cards_asking: int
    follow_ups: int


def follow_ups(w: World, thread: str) -> int:
    return sum(
        1
        for m in w.slack.thread("support", thread)
        if m.get("bot_id") and "after the approval decision" in str(m.get("blocks"))
    )


async def count(w: World, thread: str, crasher: Crasher) -> Count:
    await w.slack.wait_for(lambda: follow_ups(w, thread) or None, within=20, what="a follow-up")
    await w.settle()
    return Count(
        crasher.count,
        crasher.fired.is_set(),
        w.movements(),
        len([p for p in w.pages() if thread in p["text"]]),
        len(await w.running.board.store.incidents.for_thread("C0SUPPORT", thread)),
        len(w.cards(thread)),
        follow_ups(w, thread),
    )


Hooks = Callable[[Any, Crasher], None]


def refund_effect(board: Any, crasher: Crasher) -> None:
    tools = board.supervisor.agents["billing"].tool("issue_refund").run.__self__
    after(tools.connector, "refund", crasher)


def page_effect(board: Any, crasher: Crasher) -> None:
    tools = board.supervisor.agents["escalation"].tool("page_oncall").run.__self__
    after(tools.pager._notifier, "post", crasher)


async def life(slack: LocalSlack, tmp: Path, at: int, words: str, hooks: Hooks) -> Count:
    """Ask, arm the crasher at step `at`, click Approve; after a crash, restart the bot (and
    click again if the card still asks: the click died with the process), then count."""
    settings = settings_for(slack, f"sqlite:///{tmp / 'bot.db'}", tmp, file=config())
    crasher = Crasher(at)
    async with bot(slack, settings, post_lease=QUICK) as first:
        w = World(slack, first, tmp / "ledger.db")
        thread = await w.ask("bob", words)
        arm(first.board.store.db, crasher)
        hooks(first.board, crasher)
        [card] = w.cards(thread)
        await slack.click("alice", "support", card["ts"], "approval_approve")
        decided = asyncio.ensure_future(
            slack.wait_for(lambda: follow_ups(w, thread) or None, within=20, what="a follow-up")
        )
        crashed = asyncio.ensure_future(crasher.fired.wait())
        await asyncio.wait([decided, crashed], return_when=asyncio.FIRST_COMPLETED)
        decided.cancel()
        crashed.cancel()
        if not crasher.fired.is_set():
            return await count(w, thread, crasher)
    async with bot(slack, settings, lease=QUICK, post_lease=QUICK) as second:
        again = World(slack, second, tmp / "ledger.db")
        await again.settle()
        if again.cards(thread):
            await again.click("alice", thread)
        return await count(again, thread, crasher)


REFUND = "Please refund the double charge on INV-1018"
PAGE = "The API is down for everyone since 09:10, page on-call"


@pytest.mark.parametrize(
    ("words", "hooks", "expected"),
    [(REFUND, refund_effect, (1, 0, 0)), (PAGE, page_effect, (0, 1, 1))],
    ids=["refund", "page_and_incident"],
)
async def test_a_crash_at_every_step_of_an_approval_gives_each_effect_once(
    slack: LocalSlack, tmp_path: Path, words: str, hooks: Hooks, expected: tuple[int, ...]
) -> None:
    at, steps = 1, 10**6
    while at <= steps:
        tmp = tmp_path / f"at{at}"
        tmp.mkdir()
        result = await life(slack, tmp, at, words, hooks)
        if not result.crashed:
            steps = result.steps  # a clean run: the scenario has this many steps in all
        where = f"crash at step {at} of {result.steps}"
        assert (result.movements, result.pages, result.incidents) == expected, where
        assert (result.cards_asking, result.follow_ups) == (0, 1), where
        at += 1
    assert steps > 5  # the sweep reached every gap of a real execution


async def turn_life(slack: LocalSlack, tmp: Path, at: int, words: str) -> tuple[int, bool, World]:
    """Post a request with the crasher armed from the first write of the turn; restart after a
    crash (the inbox row's lease lapses, the turn runs again). Returns steps, crashed, world."""
    settings = settings_for(slack, f"sqlite:///{tmp / 'bot.db'}", tmp, file=config())
    crasher = Crasher(at)
    lease = timedelta(seconds=1)
    async with bot(slack, settings, lease=lease, post_lease=QUICK) as first:
        w = World(slack, first, tmp / "ledger.db")
        arm(first.board.store.db, crasher)
        ts = await slack.post("bob", "support", w.mention(words))
        replied = asyncio.ensure_future(
            slack.wait_for(lambda: w.cards(ts) or None, within=20, what="the card")
        )
        crashed = asyncio.ensure_future(crasher.fired.wait())
        await asyncio.wait([replied, crashed], return_when=asyncio.FIRST_COMPLETED)
        replied.cancel()
        crashed.cancel()
        if not crasher.fired.is_set():
            await w.settle()
            return crasher.count, False, w
    async with bot(slack, settings, lease=lease, post_lease=QUICK) as second:
        again = World(slack, second, tmp / "ledger.db")
        await slack.wait_for(lambda: again.cards(ts) or None, within=20, what="the card")
        await again.settle()
        rows = await second.board.store.approvals.for_thread("C0SUPPORT", ts)
        assert len(rows) == 1, f"crash at step {at}: {len(rows)} approvals"
        assert len(again.cards(ts)) == 1, f"crash at step {at}"
        return crasher.count, True, again


async def test_a_crash_at_every_step_of_a_turn_asks_for_approval_once(
    slack: LocalSlack, tmp_path: Path
) -> None:
    at, steps = 1, 10**6
    while at <= steps:
        tmp = tmp_path / f"at{at}"
        tmp.mkdir()
        counted, crashed, _ = await turn_life(slack, tmp, at, REFUND)
        if not crashed:
            steps = counted
        at += 1
    assert steps > 3
