"""Retention purges old conversations and keeps business records."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from storage.columns import utcnow
from storage.retention import purge_older_than
from storage.store import Store
from storage.tables import Thread


async def test_purge_removes_old_threads_with_their_messages_only(store: Store) -> None:
    old = await store.memory.thread("T1", "C1", "1.0")
    new = await store.memory.thread("T1", "C1", "2.0")
    assert old.id is not None and new.id is not None
    for thread_id in (old.id, new.id):
        await store.memory.append(thread_id, role="user", text="hi")
        await store.memory.append(thread_id, role="assistant", agent="triage", text="hello")
    ticket = await store.tickets.open(channel="C1", thread_ts="1.0", title="kept")
    async with store.db.write() as session:
        await session.exec(
            update(Thread)
            .where(col(Thread.id) == old.id)
            .values(updated_at=utcnow() - timedelta(days=100))
        )
    purged = await purge_older_than(store.db, utcnow() - timedelta(days=90))
    assert (purged.threads, purged.messages) == (1, 2)
    assert await store.memory.get_thread(old.id) is None
    assert await store.memory.messages(old.id) == []
    assert len(await store.memory.messages(new.id)) == 2
    assert ticket.id is not None and await store.tickets.get(ticket.id) is not None
