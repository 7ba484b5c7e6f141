"""Retention: conversations are kept for a configured age, then purged.

A thread is purged when its last activity is older than the cutoff; its messages go with it.
Processed inbox rows and posted outbox rows carry message text too, so they follow the same
cutoff, and so do assistant threads (their titles are made from the first message). Tickets,
incidents, approvals and the audit log are business records and are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from storage.database import Database
from storage.tables import AssistantThread, InboxEvent, Message, OutboxMessage, Thread


@dataclass(frozen=True, kw_only=True)
class Purged:
    threads: int
    messages: int
    inbox_events: int
    outbox_messages: int
    assistant_threads: int = 0


async def purge_older_than(db: Database, cutoff: datetime) -> Purged:
    old_threads = select(Thread.id).where(col(Thread.updated_at) < cutoff)
    async with db.write() as session:
        messages = await session.exec(
            delete(Message).where(col(Message.thread_id).in_(old_threads.scalar_subquery()))
        )
        threads = await session.exec(delete(Thread).where(col(Thread.updated_at) < cutoff))
        inbox = await session.exec(
            delete(InboxEvent).where(
                col(InboxEvent.status).in_(("done", "failed")),
                col(InboxEvent.updated_at) < cutoff,
            )
        )
        outbox = await session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.status).in_(("posted", "failed")),
                col(OutboxMessage.created_at) < cutoff,
            )
        )
        assistant = await session.exec(
            delete(AssistantThread).where(col(AssistantThread.created_at) < cutoff)
        )
    return Purged(
        threads=threads.rowcount,
        messages=messages.rowcount,
        inbox_events=inbox.rowcount,
        outbox_messages=outbox.rowcount,
        assistant_threads=assistant.rowcount,
    )
