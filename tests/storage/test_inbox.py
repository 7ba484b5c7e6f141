"""The inbox refuses duplicates by event id and by (channel, ts), and leases rows for work."""

from __future__ import annotations

from datetime import timedelta

from storage.columns import utcnow
from storage.store import Store


async def test_event_is_recorded_once_per_event_id(store: Store) -> None:
    first = await store.inbox.record(event_id="Ev1", kind="app_mention", payload={"a": 1})
    again = await store.inbox.record(event_id="Ev1", kind="app_mention", payload={"a": 1})
    assert first is not None
    assert again is None
    row = await store.inbox.get(first)
    assert row is not None and row.status == "received" and row.payload == {"a": 1}


async def test_mention_and_message_for_same_ts_are_one_row(store: Store) -> None:
    mention = await store.inbox.record(
        event_id="Ev1", kind="app_mention", payload={}, channel="C1", message_ts="1.0001"
    )
    message = await store.inbox.record(
        event_id="Ev2", kind="message", payload={}, channel="C1", message_ts="1.0001"
    )
    other_channel = await store.inbox.record(
        event_id="Ev3", kind="message", payload={}, channel="C2", message_ts="1.0001"
    )
    assert mention is not None and message is None and other_channel is not None


async def test_events_without_message_ts_do_not_collide(store: Store) -> None:
    ids = [
        await store.inbox.record(event_id=f"Ev{i}", kind="reaction_added", payload={})
        for i in range(3)
    ]
    assert all(i is not None for i in ids)


async def test_claim_is_exclusive_until_the_lease_runs_out(store: Store) -> None:
    row_id = await store.inbox.record(event_id="Ev1", kind="message", payload={})
    assert row_id is not None
    now = utcnow()
    claimed = await store.inbox.claim(row_id, "worker-a", timedelta(seconds=30), now=now)
    assert claimed is not None and claimed.status == "processing" and claimed.attempts == 1
    assert await store.inbox.claim(row_id, "worker-b", timedelta(seconds=30), now=now) is None
    later = now + timedelta(seconds=31)
    assert [r.id for r in await store.inbox.recoverable(now=later)] == [row_id]
    reclaimed = await store.inbox.claim(row_id, "worker-b", timedelta(seconds=30), now=later)
    assert reclaimed is not None and reclaimed.locked_by == "worker-b" and reclaimed.attempts == 2


async def test_recovery_lists_received_and_stale_rows_but_not_finished_ones(store: Store) -> None:
    ids = []
    for i in range(4):
        row_id = await store.inbox.record(event_id=f"Ev{i}", kind="message", payload={})
        assert row_id is not None
        ids.append(row_id)
    now = utcnow()
    await store.inbox.claim(ids[1], "w", timedelta(seconds=60), now=now)
    await store.inbox.claim(ids[2], "w", timedelta(seconds=60), now=now)
    await store.inbox.complete(ids[2])
    await store.inbox.claim(ids[3], "w", timedelta(seconds=60), now=now)
    await store.inbox.fail(ids[3], "boom")
    assert [r.id for r in await store.inbox.recoverable(now=now)] == [ids[0]]
    stale = await store.inbox.recoverable(now=now + timedelta(minutes=2))
    assert [r.id for r in stale] == [ids[0], ids[1]]
    failed = await store.inbox.get(ids[3])
    assert failed is not None and failed.status == "failed" and failed.error == "boom"
    assert await store.inbox.claim(ids[2], "w", timedelta(seconds=60)) is None
