"""Digest benchmark: compose a 7-day digest over 100k threads and 1M messages.

Builds the data itself (once; the SQLite file is kept in bench/out/ and reused): threads spread
over 14 days, so the digest's window and the previous window it is compared with hold about half
each; ten messages a thread, user and assistant in turn, with route decisions, usage and cost;
approvals, tickets and incidents in proportion. Then composes the digest the way the scheduler
does (every figure for both windows, open items, the chart, the blocks), without posting it, and
prints the time per phase and the figures. Target: under 2 s on SQLite.

    .venv/bin/python bench/digest.py                  # SQLite and local PostgreSQL
    .venv/bin/python bench/digest.py --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config_file import DigestConfig
from bot.digests.service import compose
from storage.database import Database
from storage.migrate import upgrade
from storage.store import Store
from storage.tables import Approval, Incident, Message, Thread, Ticket

OUT = Path(__file__).with_name("out")
BATCH = 20_000
END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # fixed, so the SQLite file can be reused
SPAN = timedelta(days=14)
ROUTES = ["triage", "billing", "technical", "escalation"]
WORDS = [
    "refund",
    "invoice",
    "login",
    "password",
    "error",
    "crash",
    "outage",
    "webhook",
    "export",
    "latency",
    "api",
    "sso",
    "dashboard",
    "charge",
    "card",
    "declined",
    "timeout",
    "deploy",
    "certificate",
    "billing",
    "plan",
    "upgrade",
]


def _threads(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Threads in the order they started, as the bot would have created them."""
    starts = sorted(rng.uniform(0, SPAN.total_seconds() - 3600) for _ in range(count))
    rows = []
    for n, offset in enumerate(starts):
        created = END - SPAN + timedelta(seconds=offset)
        rows.append(
            {
                "team_id": "T1",
                "channel": f"C{n % 40:04d}",
                "thread_ts": f"{1_700_000_000 + n}.000100",
                "agent": None,
                "summary": "",
                "summary_tokens": 0,
                "summary_upto": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _message(rng: random.Random, thread_id: int, k: int, at: datetime) -> dict[str, Any]:
    """Every row has the same keys, so the driver inserts a batch in one statement."""
    route = rng.choices(ROUTES, weights=(3, 4, 4, 1))[0]
    user = k % 2 == 0
    return {
        "thread_id": thread_id,
        "role": "user" if user else "assistant",
        "agent": None if user else route,
        "text": " ".join(rng.choices(WORDS, k=rng.randint(4, 20))) if user else "Found it.",
        "tokens": 0,
        "routes": [{"route": route, "confidence": 0.8}] if user else None,
        "route_source": "classifier" if user else None,
        "prompt_tokens": 0 if user else rng.randint(200, 2000),
        "completion_tokens": 0 if user else rng.randint(50, 400),
        "cost_usd": 0.0 if user else round(rng.uniform(0.0001, 0.01), 6),
        "created_at": at,
    }


async def _insert(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.write() as session:
            conn = await session.connection()
            await conn.execute(insert(model), rows[start : start + BATCH])


async def build(db: Database, threads: int, messages: int) -> None:
    """Fill an empty database; a database that already has the messages is kept.

    Messages are inserted in time order, as the bot writes them, so ids grow with time.
    """
    async with db.read() as session:
        have = (await session.exec(select(func.count()).select_from(Message))).scalar_one()
    if have >= messages:
        return
    rng = random.Random(7)
    rows = _threads(rng, threads)
    per_thread = messages // threads
    batch: list[dict[str, Any]] = []
    for thread_id, thread in enumerate(rows, start=1):
        at = thread["created_at"]
        for k in range(per_thread):
            batch.append(_message(rng, thread_id, k, at))
            thread["updated_at"] = at
            at = min(at + timedelta(seconds=rng.uniform(5, 900)), END - timedelta(seconds=1))
    batch.sort(key=lambda row: row["created_at"])
    await _insert(db, Thread, rows)
    for start in range(0, len(batch), BATCH * 5):
        await _insert(db, Message, batch[start : start + BATCH * 5])
        print(f"  built {start + BATCH * 5:>9,} messages", end="\r", flush=True)
    print()
    await _records(db, rng, rows)
    if not db.is_sqlite:  # as autovacuum would, after a bulk load
        async with db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql(
                "ANALYZE"
            )


async def _records(db: Database, rng: random.Random, threads: list[dict[str, Any]]) -> None:
    approvals, tickets, incidents = [], [], []
    for n, thread in enumerate(rng.sample(threads, len(threads) // 20)):
        created = thread["created_at"] + timedelta(minutes=1)
        status = rng.choice(["pending", "approved", "executed", "rejected", "expired"])
        decided = None if status == "pending" else created + timedelta(minutes=rng.randint(1, 240))
        approvals.append(
            {
                "id": f"apv_{n:012d}",
                "team_id": "T1",
                "channel": thread["channel"],
                "thread_ts": thread["thread_ts"],
                "agent": "billing",
                "tool": "refund",
                "arguments": {},
                "summary": "Refund",
                "rationale": "",
                "requester": "U1",
                "approvers": [],
                "required_approvals": 1,
                "status": status,
                "decided_at": decided,
                "expires_at": created + timedelta(hours=4),
                "created_at": created,
                "updated_at": created,
            }
        )
    for thread in rng.sample(threads, len(threads) // 10):
        category = rng.choice(["general", "billing", "technical", "escalation"])
        status = rng.choice(["open", "closed"])
        tickets.append(_record(thread, category=category, priority="normal", status=status))
    for thread in rng.sample(threads, len(threads) // 200):
        status = rng.choice(["open", "resolved"])
        incidents.append(_record(thread, severity="SEV2", status=status))
    await _insert(db, Approval, approvals)
    await _insert(db, Ticket, tickets)
    await _insert(db, Incident, incidents)


def _record(thread: dict[str, Any], **fields: Any) -> dict[str, Any]:
    at = thread["created_at"] + timedelta(minutes=2)
    return {
        "channel": thread["channel"],
        "thread_ts": thread["thread_ts"],
        "title": "Checkout errors for EU customers",
        "created_at": at,
        "updated_at": at,
        **fields,
    }


async def measure(store: Store, runs: int) -> tuple[list[float], list[float], Any]:
    """Wall time, and CPU time of the whole process (the database driver's threads included),
    per digest: on a shared machine the second says more about the work than the first."""
    config = DigestConfig(name="weekly", channel="C0SUPPORT", cron="0 9 * * 1", window="7d")
    walls, cpus, digest = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        digest = await compose(store, config, END, chart=True)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, digest


async def run_one(name: str, url: str, args: argparse.Namespace) -> float:
    db = Database(url)
    await upgrade(db)
    started = time.perf_counter()
    await build(db, args.threads, args.messages)
    print(f"{name:<11} data ready in {time.perf_counter() - started:.1f} s")
    store = Store.over(db)
    await measure(store, 1)  # warm the page cache and the pool
    timings, cpus, digest = await measure(store, args.runs)
    await db.dispose()
    median = statistics.median(timings)
    print(
        f"{name:<11} digest  median {median:.2f} s   min {min(timings):.2f} s   "
        f"max {max(timings):.2f} s   n={len(timings)}   "
        f"(this process's CPU: median {statistics.median(cpus):.2f} s)"
    )
    for phase, seconds in digest.timings.items():
        print(f"{'':<11}   {phase:<16} {seconds * 1000:7.0f} ms")
    print(digest.summary())
    return median


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"{args.threads:,} threads, {args.messages:,} messages over 14 days; 7-day digest")
    sqlite_file = OUT / f"digest-{args.threads}-{args.messages}.db"
    median = await run_one("sqlite", f"sqlite:///{sqlite_file}", args)
    print(f"sqlite target < 2 s: {'met' if median < 2 else 'NOT met'}")
    if args.no_postgres:
        return
    name = f"switchboard_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await run_one("postgresql", f"{args.postgres.rsplit('/', 1)[0]}/{name}", args)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
