"""A whole turn through the real Supervisor on the offline model, the product's default setup.

Run: .venv/bin/python bench/turn.py [--messages 300] [--follow-ups 100] [--concurrency 4,16]

The four specialists are built the way `bot/wiring.py` builds them with no model configured
(`build_specialists(default_deps(...), SpecialistConfig())`), over a fresh migrated SQLite
store in a temporary folder, with the real FastClassifier and Decider. The messages are the
router's held-out examples (billing, technical, triage, escalation), each starting a thread,
and follow-ups in some of those threads. Prints p50/p99 per turn, by kind and by route, how
the turns were routed and how many model calls they made, then turns per second with N turns
in flight at once (each in a thread of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typing import Any

import structlog

from agents.connectors.paging import SlackPager
from agents.llm import LLM, Completion
from agents.runner import Runner
from agents.specialists.factory import SpecialistConfig, build_specialists
from bot.doors import default_deps
from router.approvals import ApprovalRules, Approvers
from router.classifier import load_default_examples
from router.decider import Decider
from router.supervisor import Supervisor
from router.training import default_classifier
from router.turn import Reply, Turn
from storage.database import Database
from storage.migrate import upgrade
from storage.store import Store

FOLLOW_UPS = (
    "ok thanks, what happens next?",
    "any update on this?",
    "it's still happening, can you check again?",
    "thanks! one more thing, how long will that take?",
    "I tried that and it didn't help",
    "can you tell me more?",
    "great, that worked",
    "hmm, same problem again this morning",
)


class NullNotifier:
    """Stands in for Slack: a page only runs after an approval, which this bench never gives."""

    async def post(self, channel: str, text: str, key: str) -> str:
        return "0.0"

    async def find(self, channel: str, key: str) -> str | None:
        return None


class CountingLLM(LLM):
    """The real LLM layer (litellm and the offline provider), counting the calls it makes."""

    calls = 0

    async def complete(self, model: str, messages: Any, **kwargs: Any) -> Completion:
        self.calls += 1
        return await super().complete(model, messages, **kwargs)


@dataclass(frozen=True)
class Timed:
    kind: str  # "new" or "follow-up"
    route: str
    source: str  # rule, continuity, classifier
    parts: int  # specialists that answered (2 or more: multi-intent or a second opinion)
    ms: float


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50):6.2f} ms  p99 {percentile(values, 99):6.2f} ms  "
        f"mean {statistics.fmean(values):6.2f} ms  max {max(values):6.2f} ms  (n={len(values)})"
    )


async def build(folder: Path, llm: LLM) -> Supervisor:
    db = Database(f"sqlite:///{folder / 'switchboard.db'}")
    await upgrade(db)
    store = Store.over(db)
    deps = default_deps(store, pager=SlackPager(NullNotifier(), "#oncall"))
    agents = build_specialists(deps, SpecialistConfig())
    return Supervisor(
        store,
        agents,
        Runner(llm),
        Decider(default_classifier()),
        ApprovalRules(default=Approvers(users=("U_LEAD",))),
    )


class Driver:
    """Makes turns with unique thread and event ids and times each one."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.count = 0

    async def say(self, text: str, thread: str) -> tuple[Reply, float]:
        self.count += 1
        n = self.count
        turn = Turn(
            team_id="T1",
            channel="C1",
            thread_ts=thread,
            user_id="U_ASKER",
            text=text,
            ts=f"{1_700_000_000 + n}.{n:06d}",
            event_id=f"Ev{n}",
        )
        start = time.perf_counter()
        reply = await self.supervisor.handle(turn)
        return reply, (time.perf_counter() - start) * 1000


def _timed(kind: str, reply: Reply, ms: float) -> Timed:
    return Timed(kind, reply.agent, reply.decision.source, len(reply.parts), ms)


async def sequential(
    driver: Driver, texts: Sequence[str], follow_ups: int, rng: random.Random
) -> list[Timed]:
    timed: list[Timed] = []
    threads: list[tuple[str, str]] = []  # (thread_ts, agent)
    for i, text in enumerate(texts):
        thread = f"seq-{i}"
        reply, ms = await driver.say(text, thread)
        timed.append(_timed("new", reply, ms))
        threads.append((thread, reply.agent))
    for thread, _ in rng.sample(threads, min(follow_ups, len(threads))):
        for _ in range(2):  # two follow-ups: the thread's window grows
            reply, ms = await driver.say(rng.choice(FOLLOW_UPS), thread)
            timed.append(_timed("follow-up", reply, ms))
    return timed


async def concurrent(
    driver: Driver, texts: Sequence[str], n: int, prefix: str
) -> tuple[float, list[float]]:
    queue = list(enumerate(texts))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            i, text = queue.pop()
            _, ms = await driver.say(text, f"{prefix}-{i}")
            latencies.append(ms)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(n):
            group.create_task(worker())
    return time.perf_counter() - start, latencies


def report(timed: list[Timed], calls: int, setup_s: float) -> None:
    print(
        f"Switchboard turn (offline model, SQLite store, real classifier); cpus {os.cpu_count()}; "
        f"setup {setup_s:.2f} s (migrations + classifier training)"
    )
    print(f"\none turn at a time ({len(timed)} turns):")
    print(f"  all          {summary([t.ms for t in timed])}")
    for kind in ("new", "follow-up"):
        print(f"  {kind:<12} {summary([t.ms for t in timed if t.kind == kind])}")
    by_route: dict[str, list[float]] = defaultdict(list)
    for t in timed:
        by_route[t.route].append(t.ms)
    for route, values in sorted(by_route.items()):
        print(f"  {route:<12} {summary(values)}")
    sources = Counter(t.source for t in timed)
    several = sum(t.parts > 1 for t in timed)
    print(
        f"  routed by {', '.join(f'{k} {v}' for k, v in sources.most_common())}; "
        f"{several} turns ran 2+ specialists; {calls / len(timed):.2f} model calls per turn; "
        f"{1000 * len(timed) / sum(t.ms for t in timed):,.0f} turns/s one at a time"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=300, help="new threads, one at a time")
    parser.add_argument("--follow-ups", type=int, default=100, help="threads that get 2 more")
    parser.add_argument("--concurrency", default="4,16", help="turns in flight at once, e.g. 4,16")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    levels = [int(n) for n in args.concurrency.split(",") if n.strip()]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings only

    rng = random.Random(3)
    examples = load_default_examples("heldout.jsonl")
    texts = [rng.choice(examples).text for _ in range(args.messages)]
    llm = CountingLLM()
    with tempfile.TemporaryDirectory(prefix="switchboard-turn-") as folder:
        started = time.perf_counter()
        supervisor = await build(Path(folder), llm)
        setup_s = time.perf_counter() - started
        driver = Driver(supervisor)
        for i in range(args.warmup):
            await driver.say(examples[i].text, f"warm-{i}")

        llm.calls = 0
        timed = await sequential(driver, texts, args.follow_ups, rng)
        report(timed, llm.calls, setup_s)
        for n in levels:
            wall, parallel = await concurrent(driver, texts, n, f"par{n}")
            print(f"\n{n} turns in flight ({len(parallel)} new threads):")
            print(f"  {len(parallel) / wall:,.0f} turns/s; per-turn latency {summary(parallel)}")
        await supervisor.store.close()


if __name__ == "__main__":
    asyncio.run(main())
