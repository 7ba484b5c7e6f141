"""Storage benchmark: append a message and load the thread's window, at production size.

Builds a database of 100k threads and 1M messages (once; the SQLite file is kept in bench/out/
and reused), then times `append` followed by `window` on random threads, through the same
repositories the bot uses. Prints p50 and p99 per database. Target: p99 under 5 ms on SQLite.

    .venv/bin/python bench/storage.py                  # SQLite and local PostgreSQL
    .venv/bin/python bench/storage.py --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.columns import utcnow
from storage.database import Database
from storage.migrate import upgrade
from storage.store import Store
from storage.tables import Message, Thread

OUT = Path(__file__).with_name("out")
BATCH = 20_000
WORDS = [
    "refund",
    "invoice",
    "login",
    "error",
    "crash",
    "outage",
    "page",
    "on-call",
    "please",
    "thanks",
    "customer",
    "api",
]


async def build(db: Database, threads: int, messages: int) -> None:
    """Fill an empty database with `threads` threads and `messages` messages spread over them."""
    async with db.read() as session:
        have = (await session.exec(select(func.count()).select_from(Message))).scalar_one()
    if have >= messages:
        return
    now = utcnow()
    rows = [
        {
            "team_id": "T1",
            "channel": f"C{n % 40}",
            "thread_ts": f"{1_700_000_000 + n}.000100",
            "summary": "",
            "summary_tokens": 0,
            "summary_upto": 0,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(threads)
    ]
    async with db.write() as session:
        for start in range(0, len(rows), BATCH):
            await session.execute(insert(Thread), rows[start : start + BATCH])
    rng = random.Random(7)
    for start in range(0, messages, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, messages)):
            text = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
            batch.append(
                {
                    "thread_id": n % threads + 1,
                    "role": "user" if n % 2 else "assistant",
                    "text": text,
                    "tokens": len(text) // 4,
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "cost_usd": 0.0,
                    "created_at": now,
                }
            )
        async with db.write() as session:
            await session.execute(insert(Message), batch)
        print(f"  built {min(start + BATCH, messages):>9,} messages", end="\r", flush=True)
    print()


async def measure(store: Store, threads: int, samples: int, budget: int) -> list[float]:
    rng = random.Random(11)
    timings = []
    for _ in range(samples):
        thread_id = rng.randint(1, threads)
        started = time.perf_counter()
        await store.memory.append(thread_id, role="user", text="Is my refund through yet?")
        window = await store.memory.window(thread_id, token_budget=budget)
        timings.append((time.perf_counter() - started) * 1000)
        assert window.messages
    return timings


def report(name: str, timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"{name:<12} append+window  p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   n={len(ordered)}")
    return p50, p99


async def run_one(name: str, url: str, args: argparse.Namespace) -> tuple[float, float]:
    db = Database(url)
    await upgrade(db)
    started = time.perf_counter()
    await build(db, args.threads, args.messages)
    print(f"{name:<12} data ready in {time.perf_counter() - started:.1f} s")
    store = Store.over(db)
    await measure(store, args.threads, 100, args.budget)  # warm the cache and the pool
    result = report(name, await measure(store, args.threads, args.samples, args.budget))
    await db.dispose()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--budget", type=int, default=2_000, help="window token budget")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    print(
        f"{args.threads:,} threads, {args.messages:,} messages, window budget {args.budget} tokens"
    )
    sqlite_file = OUT / f"storage-{args.threads}-{args.messages}.db"
    _, p99 = await run_one("sqlite", f"sqlite:///{sqlite_file}", args)
    print(f"sqlite p99 target < 5 ms: {'met' if p99 < 5 else 'NOT met'}")
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
