"""A turn is stored whole or not at all: kill the bot at every write of a plain question's turn.

The crasher (see test_crashes.py) makes every database write fail from the n-th on, as if the
process died there. Right after the death the thread holds either the whole turn (question and
answer) or nothing of it: no thread row without messages, no question without its answer. The
next bot runs the turn again from its inbox row, and the thread ends with exactly one question,
one answer and one reply in Slack, whichever write the first bot died at.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from localslack import LocalSlack
from tests.helpers.adversarial import World, config
from tests.helpers.crashes import QUICK, Crasher, arm
from tests.helpers.harness import bot, settings_for

QUESTION = "How do I rotate an API key for the dashboard?"


def stored(db: Path, thread_ts: str) -> tuple[int, list[str]]:
    """(thread rows, the roles of their messages in order) for the thread, read from the file."""
    with sqlite3.connect(db) as conn:
        threads = conn.execute(
            "SELECT count(*) FROM threads WHERE thread_ts = ?", (thread_ts,)
        ).fetchone()[0]
        roles = conn.execute(
            "SELECT m.role FROM messages AS m JOIN threads AS t ON t.id = m.thread_id "
            "WHERE t.thread_ts = ? ORDER BY m.id",
            (thread_ts,),
        ).fetchall()
    return int(threads), [r[0] for r in roles]


def replies(slack: LocalSlack, thread_ts: str) -> list[dict[str, object]]:
    return [m for m in slack.thread("support", thread_ts) if m.get("bot_id")]


async def life(slack: LocalSlack, tmp: Path, at: int) -> tuple[int, bool]:
    """Ask with the crasher armed at write `at`; after a death, check what is stored, restart,
    and check the re-run. Returns (writes counted, whether the bot died)."""
    settings = settings_for(slack, f"sqlite:///{tmp / 'bot.db'}", tmp, file=config())
    crasher = Crasher(at)
    lease = timedelta(seconds=1)
    async with bot(slack, settings, lease=lease, post_lease=QUICK) as first:
        w = World(slack, first, tmp / "ledger.db")
        arm(first.board.store.db, crasher)
        ts = await slack.post("bob", "support", w.mention(QUESTION))
        replied = asyncio.ensure_future(
            slack.wait_for(lambda: replies(slack, ts) or None, within=20, what="the reply")
        )
        crashed = asyncio.ensure_future(crasher.fired.wait())
        await asyncio.wait([replied, crashed], return_when=asyncio.FIRST_COMPLETED)
        replied.cancel()
        crashed.cancel()
        if not crasher.fired.is_set():
            await w.settle()
            assert stored(tmp / "bot.db", ts) == (1, ["user", "assistant"])
            return crasher.count, False
    threads, roles = stored(tmp / "bot.db", ts)
    assert (threads, roles) in ((0, []), (1, ["user", "assistant"])), f"died at write {at}"
    async with bot(slack, settings, lease=lease, post_lease=QUICK) as second:
        again = World(slack, second, tmp / "ledger.db")
        await slack.wait_for(lambda: replies(slack, ts) or None, within=20, what="the reply")
        await again.settle()
        assert stored(tmp / "bot.db", ts) == (1, ["user", "assistant"]), f"died at write {at}"
        assert len(replies(slack, ts)) == 1, f"died at write {at}"
    return crasher.count, True


async def test_a_crash_at_every_write_of_a_turn_leaves_all_of_it_or_none(
    slack: LocalSlack, tmp_path: Path
) -> None:
    at, steps = 1, 10**6
    while at <= steps:
        tmp = tmp_path / f"at{at}"
        tmp.mkdir()
        counted, crashed = await life(slack, tmp, at)
        if not crashed:
            steps = counted  # a clean run: the turn has this many writes in all
        at += 1
    assert steps >= 3  # claim, the turn's record, the reply queued (and more): all were hit
