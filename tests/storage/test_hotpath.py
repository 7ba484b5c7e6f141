"""The hot path's thread: urgent calls first, errors to the caller, a clean close."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.hotpath import HotPath


async def test_an_urgent_call_goes_before_the_calls_already_queued(tmp_path: Path) -> None:
    hot = HotPath(str(tmp_path / "hot.db"), 1000)
    gate = threading.Event()
    order: list[str] = []

    def blocked(_: sqlite3.Connection) -> None:
        assert gate.wait(5)

    def noting(name: str) -> Callable[[sqlite3.Connection], None]:
        def note(_: sqlite3.Connection) -> None:
            order.append(name)

        return note

    first = asyncio.create_task(hot.read(blocked))
    await asyncio.sleep(0)  # the thread is now held by `blocked`
    queued = [asyncio.create_task(hot.read(noting(n))) for n in ("turn1", "turn2")]
    urgent = asyncio.create_task(hot.write(noting("ack"), urgent=True))
    await asyncio.sleep(0)
    gate.set()
    async with asyncio.timeout(5):
        await asyncio.gather(first, *queued, urgent)
    assert order == ["ack", "turn1", "turn2"]
    await hot.close()


async def test_a_failed_write_is_rolled_back_and_raised_to_its_caller(tmp_path: Path) -> None:
    hot = HotPath(str(tmp_path / "hot.db"), 1000)
    await hot.write(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))

    def half(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (1)")
        raise ValueError("half done")

    with pytest.raises(ValueError, match="half done"):
        await hot.write(half)
    assert await hot.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 0
    await hot.close()
    await hot.close()  # twice is harmless
    assert await hot.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 0
    await hot.close()


async def test_a_call_that_comes_while_closing_is_answered(tmp_path: Path) -> None:
    hot = HotPath(str(tmp_path / "hot.db"), 1000)
    gate = threading.Event()

    def blocked(_: sqlite3.Connection) -> None:
        assert gate.wait(5)

    first = asyncio.create_task(hot.read(blocked))
    await asyncio.sleep(0)
    closing = asyncio.create_task(hot.close())
    await asyncio.sleep(0)
    late = asyncio.create_task(hot.read(lambda c: c.execute("SELECT 7").fetchone()[0]))
    await asyncio.sleep(0)
    gate.set()
    async with asyncio.timeout(5):
        await asyncio.gather(first, closing)
        assert await late == 7
        assert await hot.read(lambda c: c.execute("SELECT 8").fetchone()[0]) == 8  # after close
    await hot.close()
