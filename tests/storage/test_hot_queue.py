"""The inbox's and outbox's claims return the row as stored, on either path (SQLite's one-hop
statements and PostgreSQL's ORM): times aware, JSON parsed, every column the same as a read."""

from __future__ import annotations

from datetime import timedelta

from storage.outbox import Outgoing
from storage.store import Store

LEASE = timedelta(seconds=30)


async def test_a_claimed_inbox_row_is_the_stored_row(store: Store) -> None:
    payload = {"event": {"text": "hi", "files": [{"id": "F1"}]}, "n": 1}
    row_id = await store.inbox.record(
        event_id="Ev1", kind="app_mention", payload=payload, channel="C1", message_ts="1.0"
    )
    assert row_id is not None
    assert await store.inbox.record(event_id="Ev1", kind="app_mention", payload={}) is None
    claimed = await store.inbox.claim(row_id, "me", LEASE)
    assert claimed is not None and claimed.payload == payload
    assert claimed.model_dump() == (await store.inbox.get(row_id)).model_dump()  # type: ignore[union-attr]
    assert claimed.locked_until is not None and claimed.locked_until.tzinfo is not None
    assert await store.inbox.claim(row_id, "someone else", LEASE) is None  # the lease holds
    await store.inbox.complete(row_id)
    done = await store.inbox.get(row_id)
    assert done is not None and (done.status, done.locked_by) == ("done", None)


async def test_a_claimed_outbox_row_is_the_stored_row(store: Store) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    [row_id] = await store.outbox.enqueue_many(
        [Outgoing(dedupe_key="k1", channel="C1", text="hello", blocks=blocks, thread_ts="1.0")]
    )
    assert row_id is not None
    assert await store.outbox.enqueue_many([Outgoing(dedupe_key="k1", channel="C1", text="x")]) == [
        None
    ]
    found = await store.outbox.by_key("k1")
    assert found is not None and found.text == "hello" and found.blocks == blocks
    assert await store.outbox.channels_with_work() == {"C1"}
    claimed = await store.outbox.claim(row_id, "me", LEASE)
    assert claimed is not None and claimed.blocks == blocks and claimed.status == "sending"
    assert claimed.model_dump() == (await store.outbox.get(row_id)).model_dump()  # type: ignore[union-attr]
    assert await store.outbox.claim(row_id, "someone else", LEASE) is None
    assert await store.outbox.channels_with_work() == set()  # leased: nothing to send
    await store.outbox.mark_posted(row_id, "2.0")
    posted = await store.outbox.get(row_id)
    assert posted is not None and (posted.status, posted.slack_ts) == ("posted", "2.0")
    assert posted.posted_at is not None and posted.locked_until is None
