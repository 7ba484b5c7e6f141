"""The SQLite writer queue: one writer at a time, urgent ones first, cancellation-safe."""

from __future__ import annotations

import asyncio

from storage.database import WriterQueue


async def test_urgent_writers_go_before_queued_ones() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire(urgent=False)

    async def writer(name: str, urgent: bool) -> None:
        await queue.acquire(urgent)
        order.append(name)
        queue.release()

    tasks = [asyncio.create_task(writer(f"turn{i}", False)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(writer("ack", True)))
    await asyncio.sleep(0)
    queue.release()
    await asyncio.gather(*tasks)
    assert order == ["ack", "turn0", "turn1", "turn2"]


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    queue = WriterQueue()
    await queue.acquire(urgent=False)
    waiting = asyncio.create_task(queue.acquire(urgent=False))
    await asyncio.sleep(0)
    waiting.cancel()
    queue.release()
    await asyncio.gather(waiting, return_exceptions=True)
    async with asyncio.timeout(1):
        await queue.acquire(urgent=True)
    queue.release()
