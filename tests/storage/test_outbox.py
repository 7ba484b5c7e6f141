"""The outbox: enqueue once per dedupe key, claim with a lease, re-offer what a crash left."""

from __future__ import annotations

from datetime import timedelta

from storage.columns import utcnow
from storage.outbox import Outgoing
from storage.store import Store


def reply(key: str = "turn:Ev1:0") -> Outgoing:
    return Outgoing(
        dedupe_key=key, channel="C1", thread_ts="1.0", text="hello", blocks=[{"type": "divider"}]
    )


async def test_enqueue_is_idempotent_per_dedupe_key(store: Store) -> None:
    first = await store.outbox.enqueue(reply())
    assert first is not None
    assert await store.outbox.enqueue(reply()) is None
    row = await store.outbox.get(first)
    assert row is not None and row.blocks == [{"type": "divider"}] and row.status == "pending"


async def test_posted_rows_are_never_offered_again(store: Store) -> None:
    row_id = await store.outbox.enqueue(reply())
    assert row_id is not None
    claimed = await store.outbox.claim(row_id, "sender", timedelta(seconds=30))
    assert claimed is not None and claimed.attempts == 1
    await store.outbox.mark_posted(row_id, "1.0005")
    assert await store.outbox.unposted(now=utcnow() + timedelta(hours=1)) == []
    assert await store.outbox.claim(row_id, "sender", timedelta(seconds=30)) is None
    posted = await store.outbox.get(row_id)
    assert posted is not None and (posted.status, posted.slack_ts) == ("posted", "1.0005")


async def test_a_crash_mid_send_is_offered_again_after_the_lease(store: Store) -> None:
    row_id = await store.outbox.enqueue(reply())
    assert row_id is not None
    now = utcnow()
    assert await store.outbox.claim(row_id, "dead-process", timedelta(seconds=30), now=now)
    assert await store.outbox.unposted(now=now) == []
    [again] = await store.outbox.unposted(now=now + timedelta(seconds=31))
    assert again.id == row_id and again.locked_by == "dead-process"


async def test_retry_later_and_fail(store: Store) -> None:
    a = await store.outbox.enqueue(reply("a"))
    b = await store.outbox.enqueue(reply("b"))
    c = await store.outbox.enqueue(reply("c"))
    assert a is not None and b is not None and c is not None
    now = utcnow()
    await store.outbox.claim(a, "s", timedelta(seconds=30))
    await store.outbox.retry_later(a, "ratelimited", timedelta(seconds=5), check_first=False)
    await store.outbox.claim(b, "s", timedelta(seconds=30))
    await store.outbox.mark_failed(b, "channel_not_found")
    await store.outbox.claim(c, "s", timedelta(seconds=30))
    await store.outbox.retry_later(c, "http_500", timedelta(seconds=5), check_first=True)
    assert await store.outbox.unposted(now=now) == [], "both wait out their delay"
    later = await store.outbox.unposted(now=now + timedelta(seconds=6))
    assert [(r.id, r.status) for r in later] == [(a, "pending"), (c, "sending")]
    failed = await store.outbox.get(b)
    assert failed is not None and (failed.status, failed.error) == ("failed", "channel_not_found")


async def test_the_sender_s_light_queries_agree_with_unposted(store: Store) -> None:
    rows = [
        Outgoing(dedupe_key=f"k{i}", channel=channel, text="hi", thread_ts="1.0")
        for i, channel in enumerate("ABAB")
    ]
    ids = [await store.outbox.enqueue(r) for r in rows]
    assert None not in ids
    first = ids[0]
    assert first is not None
    now = utcnow()
    await store.outbox.claim(first, "dead-process", timedelta(seconds=30), now=now)
    assert await store.outbox.channels_with_work(now=now) == {"A", "B"}
    assert await store.outbox.sendable("A", now=now) == [(ids[2], "pending")]
    later = now + timedelta(seconds=31)
    full = [(r.id, r.status) for r in await store.outbox.unposted(channel="A", now=later)]
    assert full == [(first, "sending"), (ids[2], "pending")]
    assert await store.outbox.sendable("A", now=later) == full
    for row_id in ids[1::2]:
        assert row_id is not None
        await store.outbox.mark_posted(row_id, "1.1")
    assert await store.outbox.channels_with_work(now=now) == {"A"}
