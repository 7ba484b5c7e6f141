"""The SQLite writer queue: hot writes together, ORM writes alone, urgent ones first."""

from __future__ import annotations

import asyncio

from storage.writers import WriterQueue


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


async def test_hot_writes_share_the_queue_but_not_with_an_orm_write() -> None:
    queue = WriterQueue()
    await queue.acquire(urgent=False, shared=True)
    async with asyncio.timeout(1):  # a second hot write does not wait for the first
        await queue.acquire(urgent=False, shared=True)
    orm = asyncio.create_task(queue.acquire(urgent=False))
    await asyncio.sleep(0)
    assert not orm.done()
    queue.release(shared=True)
    await asyncio.sleep(0)
    assert not orm.done()  # one hot write is still in flight
    queue.release(shared=True)
    async with asyncio.timeout(1):
        await orm


async def test_hot_writes_queue_behind_a_waiting_orm_write_unless_urgent() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire(urgent=False, shared=True)

    async def writer(name: str, urgent: bool, shared: bool) -> None:
        await queue.acquire(urgent, shared=shared)
        order.append(name)
        await asyncio.sleep(0)
        queue.release(shared=shared)

    orm = asyncio.create_task(writer("orm", False, False))
    await asyncio.sleep(0)
    later = asyncio.create_task(writer("hot", False, True))
    ack = asyncio.create_task(writer("ack", True, True))
    await asyncio.sleep(0)
    assert order == ["ack"]  # urgent: an ORM write is waiting, none is in progress
    queue.release(shared=True)
    async with asyncio.timeout(1):
        await asyncio.gather(orm, later, ack)
    assert order == ["ack", "orm", "hot"]  # first come, first served: the ORM write not starved


async def test_a_cancelled_orm_waiter_lets_the_hot_writes_behind_it_go() -> None:
    queue = WriterQueue()
    await queue.acquire(urgent=False, shared=True)
    orm = asyncio.create_task(queue.acquire(urgent=False))
    await asyncio.sleep(0)
    hot = asyncio.create_task(queue.acquire(urgent=False, shared=True))
    await asyncio.sleep(0)
    assert not hot.done()
    orm.cancel()
    async with asyncio.timeout(1):
        await hot
    assert orm.cancelled()
