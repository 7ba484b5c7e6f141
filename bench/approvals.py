"""Approvals: click -> card updated latency, measured through localslack (p50, p99).

    .venv/bin/python bench/approvals.py                    # 50 refunds: 25 approved, 25 rejected
    .venv/bin/python bench/approvals.py --count 10
    .venv/bin/python bench/approvals.py --post-interval 1  # the bot's production posting pace

localslack runs in this process with Slack's timings and pacing, and delivers events and clicks
to the real bot over signed HTTP; the bot runs in its own process (`running(...)` +
`serve_http`, SQLite and a fresh demo ledger in a temporary folder, the offline model), with
approvals decided by the support leads (user group S0SUPLEADS: alice and erin).

One refund at a time: bob asks for a refund (each one a different amount, so each is its own
approval and stays within what the invoice can still refund); the bot answers and posts the
approval card in the thread; a second later (time to read it, which also keeps each channel
within Slack's pace of about one post a second) a lead clicks Approve (alice) or Reject (erin),
alternately; Reject asks for a reason in a modal, which erin fills in and submits, and for it the
time is taken from the submission. The time is taken from the click to the moment localslack
stores the card's update without its buttons (its change feed, not polling), and to the agent's
follow-up in the thread.
Prints p50 and p99 for approve and reject separately (of 25 samples each, p99 is the slowest).
One run on a shared machine: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

# The repository root first: bench/ holds router.py, which would hide the router package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.slack_load import BotHandle, BotSpec, bot_process, spread
from localslack import LocalSlack, LocalSlackConfig, WaitTimeoutError
from localslack.state import Change
from storage.database import Database
from storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
LEADS = "S0SUPLEADS"
APPROVE, REJECT = "approval_approve", "approval_reject"
DECIDERS = {APPROVE: "alice", REJECT: "erin"}
CHANNELS = ("support", "billing", "oncall")  # turn by turn, to stay within Slack's pace
MIN_REFUNDABLE = 10_000  # cents: room for a few of our small refunds on one invoice


@dataclass(frozen=True)
class Options:
    count: int = 50
    warmup: int = 2
    think: float = 1.0
    post_interval: float = 0.0
    within: float = 30.0


@dataclass
class Round:
    """One refund request and its decision, with the moments that matter (perf_counter)."""

    decision: str
    channel: str
    thread: str
    asked: float
    card_ts: str = ""
    approval_id: str = ""
    carded: float = 0.0
    clicked: float = 0.0
    acked: float = 0.0
    updated: float | None = None
    followed: float | None = None
    outcome: str = ""

    def ms(self, moment: float | None, since: float) -> float | None:
        return None if moment is None else (moment - since) * 1000


@dataclass
class Watch:
    """localslack's change feed: when each card lost its buttons, when each bot post landed."""

    ls: LocalSlack
    decided: dict[tuple[str, str], float] = field(default_factory=dict)
    posts: list[tuple[str, str, str, float]] = field(default_factory=list)

    def __call__(self, change: Change) -> None:
        if change.user != self.ls.bot_user_id or change.ts is None:
            return
        now = time.perf_counter()
        if change.kind == "message_changed":
            message = self.ls.workspace.message(change.channel, change.ts)
            if message is not None and not has_buttons(message.blocks):
                self.decided.setdefault((change.channel, change.ts), now)
        elif change.kind == "message" and change.thread_ts:
            self.posts.append((change.channel, change.thread_ts, change.ts, now))


def has_buttons(blocks: Sequence[dict[str, Any]] | None) -> bool:
    """An approval card's buttons (every reply has a "Wrong specialist?" button too)."""
    return any(
        e.get("action_id") == APPROVE
        for b in blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    )


def refundable_invoices() -> list[str]:
    """USD invoices of the demo ledger that are paid and can still give back plenty."""
    ledger = json.loads((ROOT / "agents" / "demo" / "ledger.json").read_text(encoding="utf-8"))
    return [
        str(i["id"])
        for i in ledger["invoices"]
        if i["currency"] == "USD"
        and i["status"] == "paid"
        and int(i["amount_paid"]) - int(i["amount_refunded"]) >= MIN_REFUNDABLE
    ]


class Desk:
    """Drives the rounds against localslack and the bot."""

    def __init__(self, ls: LocalSlack, watch: Watch, options: Options) -> None:
        self.ls = ls
        self.watch = watch
        self.options = options
        self.invoices = refundable_invoices()

    async def round(self, n: int) -> Round:
        decision = APPROVE if n % 2 == 0 else REJECT
        channel = CHANNELS[n % len(CHANNELS)]
        # Distinct amounts ($10.00, $10.05, ...): each request is its own approval. With at
        # most 110 rounds over 22 invoices, one invoice gets at most 5, under MIN_REFUNDABLE.
        invoice = self.invoices[n % len(self.invoices)]
        amount = (1000 + 5 * n) / 100
        words = f"Please refund ${amount:.2f} on invoice {invoice}, the customer was charged twice."
        asked = time.perf_counter()
        thread = await self.ls.post("bob", channel, f"<@{self.ls.bot_user_id}> {words}")
        current = Round(decision, channel, thread, asked)
        try:
            card = await self.ls.wait_for_bot_message(
                channel,
                thread_ts=thread,
                within=self.options.within,
                predicate=lambda m: has_buttons(m.get("blocks")),
            )
        except WaitTimeoutError:
            current.outcome = "no card"
            return current
        current.card_ts, current.carded = str(card["ts"]), time.perf_counter()
        current.approval_id = next(
            str(e.get("value"))
            for b in card["blocks"]
            if b.get("type") == "actions"
            for e in b.get("elements", [])
        )
        await asyncio.sleep(self.options.think)  # a person reads the card before clicking
        await self._decide(current)
        return current

    async def _decide(self, current: Round) -> None:
        channel_id = self.ls.workspace.channel(current.channel).id
        key = (channel_id, current.card_ts)
        current.clicked = time.perf_counter()
        decider = DECIDERS[current.decision]
        delivery = await self.ls.click(
            decider, current.channel, current.card_ts, current.decision, wait=self.options.within
        )
        current.acked = time.perf_counter()
        if delivery.state != "acked":
            current.outcome = f"click {delivery.state}"
            return
        if current.decision == REJECT:  # Reject asks for a reason: the submit is the decision
            modal = await self.ls.wait_for_modal(decider, within=self.options.within)
            current.clicked = time.perf_counter()
            await self.ls.submit_view(decider, modal["id"], {"reason": {"reason_text": "bench"}})
            current.acked = time.perf_counter()
        try:
            await self.ls.wait_for(lambda: key in self.watch.decided, self.options.within)
        except WaitTimeoutError:
            current.outcome = "card not updated"
            return
        current.updated = self.watch.decided[key]
        card = self.ls.workspace.message(channel_id, current.card_ts)
        text = json.dumps(card.blocks if card else "")
        current.outcome = next((w for w in ("Approved", "Rejected") if w in text), "unclear")
        try:
            current.followed = await self._follow_up(channel_id, current)
        except WaitTimeoutError:
            current.outcome += ", no follow-up"

    async def _follow_up(self, channel_id: str, current: Round) -> float:
        """The agent's reply after the decision: the next bot post in the thread."""

        def posted() -> float | None:
            return next(
                (
                    at
                    for channel, thread, ts, at in self.watch.posts
                    if channel == channel_id and thread == current.thread and at > current.clicked
                ),
                None,
            )

        moment: float = await self.ls.wait_for(posted, self.options.within, "the follow-up")
        return moment


def figures(rounds: list[Round], decision: str) -> list[str]:
    mine = [r for r in rounds if r.decision == decision and r.clicked]

    def column(values: list[float | None]) -> str:
        known = [v for v in values if v is not None]
        return spread(known) + f"   n={len(known)}"

    word = "approve" if decision == APPROVE else "reject"
    return [
        f"{word:8} click -> card updated    {column([r.ms(r.updated, r.clicked) for r in mine])}",
        f"{'':8} click -> ack             {column([r.ms(r.acked, r.clicked) for r in mine])}",
        f"{'':8} click -> follow-up reply {column([r.ms(r.followed, r.clicked) for r in mine])}",
    ]


def report(rounds: list[Round], options: Options) -> None:
    for decision in (APPROVE, REJECT):
        print("\n".join(figures(rounds, decision)))
    asks = [r.ms(r.carded, r.asked) for r in rounds if r.card_ts]
    print(f"request  -> card posted     {spread([a for a in asks if a is not None])}")
    outcomes = Counter(r.outcome for r in rounds)
    updated = sum(1 for r in rounds if r.updated is not None)
    print(
        f"cards    {updated} of {len(rounds)} updated in place; outcomes {dict(outcomes)} "
        f"(p99 of {len(rounds) // 2} samples is the slowest)"
    )


async def outbox_waits(rounds: list[Round], database_url: str) -> list[str]:
    """From the bot's outbox: how long each card update sat queued, and what it waited for."""
    store = Store.over(Database(database_url))
    queued: list[float] = []
    held: list[float] = []
    try:
        for r in rounds:
            key = "final" if r.decision == APPROVE else "rejected"
            update = await store.outbox.by_key(f"card:{r.approval_id}:{key}")
            follow = await store.outbox.by_key(f"resume:{r.approval_id}:0")
            if update is None or update.posted_at is None:
                continue
            queued.append((update.posted_at - update.created_at).total_seconds() * 1000)
            if follow is not None:
                held.append((follow.created_at - update.created_at).total_seconds() * 1000)
    finally:
        await store.close()
    return [
        f"card update queued -> sent  {spread(queued)}   n={len(queued)} (outbox row)",
        f"  of which until the follow-up was queued {spread(held)}   (nothing wakes the "
        "sender for the update itself)",
    ]


async def bench(options: Options) -> None:
    # Slack's pacing and a 3 s ack window, with quick retries so a slow ack shows at once.
    config = LocalSlackConfig(ack_timeout=3.0, retry_delays=(0.0, 1.0, 1.0))
    with TemporaryDirectory(prefix="switchboard-approvals-") as tmp:
        database_url = f"sqlite:///{tmp}/switchboard.db"
        async with LocalSlack(config) as ls:
            spec = BotSpec(
                ls.api_url,
                ls.bot_token,
                ls.signing_secret,
                database_url,
                f"{tmp}/ledger.db",
                approver_groups=(LEADS,),
                post_interval=options.post_interval,
            )
            async with bot_process(spec) as bot:
                await ls.use_http(bot.events_url)
                describe(options, bot)
                watch = Watch(ls)
                stop_watching = ls.workspace.observe(watch)
                desk = Desk(ls, watch, options)
                for n in range(options.warmup):
                    await desk.round(n)
                timed = time.perf_counter()
                rounds = [await desk.round(options.warmup + n) for n in range(options.count)]
                timed_end = time.perf_counter()
                stop_watching()
            report(rounds, options)
            print(bot.log.gc_line(timed, timed_end))
            print("\n".join(await outbox_waits(rounds, database_url)))
            print(f"429s from localslack: {len(ls.rate_limit_hits)} (Slack's pace is on)")
            print(bot.log.describe())
            print(f"load average {os.getloadavg()[0]:.1f} after (a shared machine: one run)")


def describe(options: Options, bot: BotHandle) -> None:
    print(
        f"approvals: {options.count} refunds asked by bob, one at a time, after {options.warmup} "
        f"untimed; alice approves, erin rejects (group {LEADS}); a {options.think:g} s pause to "
        f"read each card; bot post interval {options.post_interval:g} s; model {bot.model}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="timed decisions (half each)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed decisions first")
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between seeing a card and clicking"
    )
    parser.add_argument(
        "--post-interval",
        type=float,
        default=0.0,
        help="the bot's pause between posts in one channel (production: 1)",
    )
    parser.add_argument("--within", type=float, default=30.0, help="timeout of each wait")
    args = parser.parse_args(argv)
    if not 2 <= args.count <= 100 or not 0 <= args.warmup <= 10:
        parser.error("--count must be 2 to 100 and --warmup 0 to 10 (the ledger's refund room)")
    if args.think < 0 or args.post_interval < 0:
        parser.error("--think and --post-interval must not be negative")
    return Options(args.count, args.warmup, args.think, args.post_interval, args.within)


def main() -> None:
    asyncio.run(bench(parse_args()))


if __name__ == "__main__":
    main()
