"""Tickets, incidents, the audit log, digest runs and leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.columns import utcnow
from storage.store import Store


async def test_tickets_open_move_and_list(store: Store) -> None:
    ticket = await store.tickets.open(
        channel="C1",
        thread_ts="1.0",
        title="Cannot export CSV",
        category="technical",
        priority="high",
        requester="U1",
    )
    assert ticket.id is not None
    other = await store.tickets.open(channel="C1", thread_ts="2.0", title="Question")
    assert [t.id for t in await store.tickets.open_ones()] == [ticket.id, other.id]
    assert await store.tickets.set_status(ticket.id, "resolved")
    assert [t.id for t in await store.tickets.open_ones()] == [other.id]
    loaded = await store.tickets.get(ticket.id)
    assert loaded is not None and (loaded.status, loaded.priority) == ("resolved", "high")
    assert [t.title for t in await store.tickets.for_thread("C1", "1.0")] == ["Cannot export CSV"]


async def test_incidents_open_and_resolve(store: Store) -> None:
    incident = await store.incidents.open(
        channel="C9", thread_ts="5.0", title="API down", severity="SEV1"
    )
    assert incident.id is not None
    assert [i.severity for i in await store.incidents.open_ones()] == ["SEV1"]
    assert await store.incidents.set_status(incident.id, "resolved")
    assert await store.incidents.open_ones() == []
    assert not await store.incidents.set_status(424242, "resolved")


async def test_audit_is_in_order_and_filterable(store: Store) -> None:
    for n in range(5):
        await store.audit.append(
            actor=f"U{n}", action="click", subject="approval:apv_1", details={"n": n}
        )
    await store.audit.append(actor="bot", action="post", subject="thread:C1:1.0")
    entries = await store.audit.history(["approval:apv_1"])
    assert [e.details["n"] for e in entries] == [0, 1, 2, 3, 4]
    assert len(await store.audit.history()) == 6
    assert not hasattr(store.audit, "delete") and not hasattr(store.audit, "update")


async def test_digest_period_runs_once(store: Store) -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    end = start + timedelta(days=1)
    runs = await asyncio.gather(
        *(
            store.digests.start("daily", period_start=start, period_end=end, channel="C1")
            for _ in range(5)
        )
    )
    started = [r for r in runs if r is not None]
    assert len(started) == 1 and started[0].id is not None
    await store.digests.finish(started[0].id, slack_ts="1.0")
    [run] = await store.digests.runs("daily")
    assert (run.status, run.slack_ts, run.period_start) == ("posted", "1.0", start)
    assert await store.digests.start(
        "daily", period_start=end, period_end=end + timedelta(days=1), channel="C1"
    )


async def test_lease_has_one_holder_until_it_expires(store: Store) -> None:
    now = utcnow()
    ttl = timedelta(seconds=30)
    results = await asyncio.gather(
        *(store.leases.acquire("scheduler", f"replica-{n}", ttl, now=now) for n in range(5))
    )
    assert results.count(True) == 1
    holder = await store.leases.holder("scheduler", now=now)
    assert holder == f"replica-{results.index(True)}"
    assert await store.leases.acquire("scheduler", holder, ttl, now=now + timedelta(seconds=10))
    assert not await store.leases.acquire(
        "scheduler", "intruder", ttl, now=now + timedelta(seconds=20)
    )
    assert await store.leases.acquire("scheduler", "intruder", ttl, now=now + timedelta(seconds=41))
    await store.leases.release("scheduler", "intruder")
    assert await store.leases.holder("scheduler") is None
