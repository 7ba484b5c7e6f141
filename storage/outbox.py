"""The outbox: every reply goes here first, then to Slack.

A reply is enqueued in the same breath as the turn that made it, under a dedupe key derived from
the turn, so re-running a turn after a crash does not enqueue it twice. A sender claims a row with
a lease, posts it, and records Slack's `ts`. A row left `sending` by a dead process is offered
again after its lease; the sender must then check Slack (the message carries the outbox id in its
metadata) before posting, which is how "never posts twice" holds across a crash mid-post. A row
that failed for a while waits out its retry delay in `locked_until`, whatever its status.

A reply streamed into Slack as it is written has its row reserved, `streaming`, before the
stream starts, and the stream's ts recorded as soon as Slack gives it: senders leave such a
row alone. When the reply is complete the row is settled in one transaction with the messages
that follow it (cards): `posted` when the stream ended well, or as a `replace` of the streamed
message (stopped, then updated to the whole reply) when it did not. A turn re-run after a
crash finds its row still `streaming` and settles it the same way, so Slack ends up with one
complete reply, never a torn one and a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from storage import hot_queue
from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import OutboxKind, OutboxMessage
from storage.trace_context import TraceContext, no_trace_context

PENDING: Final = "pending"
SENDING: Final = "sending"
POSTED: Final = "posted"
FAILED: Final = "failed"
STREAMING: Final = "streaming"  # a reply being streamed: its sender is the turn, not the outbox


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """What to send. `kind` is post, update (of `target_ts`), ephemeral (to `user_id`), or
    replace: a streamed message (`target_ts`, or found in the thread) made into this one."""

    dedupe_key: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    kind: OutboxKind = "post"
    target_ts: str | None = None
    user_id: str | None = None


class Outbox:
    def __init__(self, db: Database, trace_context: TraceContext = no_trace_context) -> None:
        self._db = db
        self._trace_context = trace_context

    async def enqueue(self, reply: Outgoing) -> int | None:
        """The new row's id, or None if a reply with this dedupe key was already enqueued."""
        return (await self.enqueue_many([reply]))[0]

    async def enqueue_many(self, replies: list[Outgoing]) -> list[int | None]:
        """Several messages in one transaction: all of them are queued, or none is."""
        ids: list[int | None] = []
        context = self._trace_context()
        if self._db.hot is not None:
            rows = [
                row_values(OutboxMessage(**reply.__dict__, trace_context=context))
                for reply in replies
            ]
            return await self._db.hot_write(lambda conn: hot_queue.outbox_rows(conn, rows))
        async with self._db.write() as session:
            for reply in replies:
                row = OutboxMessage(**reply.__dict__, trace_context=context)
                ids.append(
                    await insert_ignore(
                        session, OutboxMessage, row_values(row), returning=col(OutboxMessage.id)
                    )
                )
        return ids

    async def claim(
        self, row_id: int, owner: str, lease: timedelta, *, now: datetime | None = None
    ) -> OutboxMessage | None:
        now = now or utcnow()
        if self._db.hot is not None:
            until = now + lease
            raw = await self._db.hot_write(
                lambda conn: hot_queue.claim_outbox(conn, row_id, owner, until, now)
            )
            return None if raw is None else hot_queue.decoded(OutboxMessage, raw)
        stmt = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id, _sendable(now))
            .values(
                status=SENDING,
                attempts=col(OutboxMessage.attempts) + 1,
                locked_by=owner,
                locked_until=now + lease,
            )
        )
        # One statement, the claimed row returned by it: a claim is made for every event and
        # every reply, and a second statement costs another round of driver hops.
        async with self._db.write() as session:
            result = await session.exec(
                stmt.returning(OutboxMessage), execution_options={"synchronize_session": False}
            )
            return result.scalars().one_or_none()

    async def reserve_stream(
        self, dedupe_key: str, channel: str, thread_ts: str | None
    ) -> int | None:
        """The row of a reply about to be streamed; None if the key was taken already."""
        row = OutboxMessage(
            dedupe_key=dedupe_key,
            kind="stream",
            channel=channel,
            thread_ts=thread_ts,
            text="",
            status=STREAMING,
        )
        async with self._db.write() as session:
            return await insert_ignore(
                session, OutboxMessage, row_values(row), returning=col(OutboxMessage.id)
            )

    async def stream_started(self, row_id: int, slack_ts: str) -> None:
        """Slack's ts of the streamed message, recorded the moment Slack gives it."""
        stmt = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == STREAMING)
            .values(target_ts=slack_ts)
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def settle(
        self,
        row_id: int,
        reply: Outgoing,
        *,
        posted_ts: str | None = None,
        then: list[Outgoing] | None = None,
    ) -> bool:
        """End a streaming row as `reply` (posted already when `posted_ts` is given, else to be
        sent), and queue what follows it, in one transaction. False when someone else (a turn
        re-run after a lapsed lease) settled it first; what follows is queued either way."""
        values: dict[str, Any] = {
            "kind": reply.kind,
            "text": reply.text,
            "blocks": reply.blocks,
            "thread_ts": reply.thread_ts,
            "locked_by": None,
            "locked_until": None,
        }
        if reply.target_ts is not None:
            values["target_ts"] = reply.target_ts
        if posted_ts is not None:
            values.update(status=POSTED, slack_ts=posted_ts, posted_at=utcnow())
        else:
            values["status"] = PENDING
        stmt = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == STREAMING)
            .values(**values)
        )
        async with self._db.write() as session:
            settled = (await session.exec(stmt)).rowcount == 1
            for follow in then or []:
                row = OutboxMessage(**follow.__dict__)
                await insert_ignore(
                    session, OutboxMessage, row_values(row), returning=col(OutboxMessage.id)
                )
        return settled

    async def mark_posted(self, row_id: int, slack_ts: str | None) -> None:
        if self._db.hot is not None:
            now = utcnow()
            await self._db.hot_write(
                lambda conn: hot_queue.outbox_posted(conn, row_id, slack_ts, now)
            )
            return
        await self._set(row_id, status=POSTED, slack_ts=slack_ts, posted_at=utcnow(), error=None)

    async def retry_later(
        self, row_id: int, error: str, delay: timedelta, *, check_first: bool
    ) -> None:
        """Offer the row again after `delay`. With `check_first` (Slack may have posted it
        before the failure reached us) it stays `sending`, so the next sender looks for it in
        Slack before posting, as after a crash."""
        stmt = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id)
            .values(
                status=SENDING if check_first else PENDING,
                locked_by=None,
                locked_until=utcnow() + delay,
                error=error[:2000],
            )
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def mark_failed(self, row_id: int, error: str) -> None:
        """Give up on the row (Slack refused it for good, e.g. channel_not_found)."""
        await self._set(row_id, status=FAILED, error=error[:2000])

    async def _set(self, row_id: int, **values: Any) -> None:
        stmt = (
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id)
            .values(locked_by=None, locked_until=None, **values)
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def unposted(
        self, *, channel: str | None = None, now: datetime | None = None, limit: int = 500
    ) -> list[OutboxMessage]:
        """Rows to send: pending, or left sending by a process whose lease ran out."""
        stmt = select(OutboxMessage).where(_sendable(now or utcnow()))
        if channel is not None:
            stmt = stmt.where(col(OutboxMessage.channel) == channel)
        stmt = stmt.order_by(col(OutboxMessage.id)).limit(limit)
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def channels_with_work(self, *, now: datetime | None = None) -> set[str]:
        """The channels `unposted` would name, without loading their rows: a sender asks on
        every notify, and whole rows (JSON blocks) cost a lot when the backlog is long."""
        if self._db.hot is not None:
            now_ = now or utcnow()
            return await self._db.hot.read(lambda conn: hot_queue.outbox_channels(conn, now_))
        stmt = select(OutboxMessage.channel).where(_sendable(now or utcnow())).distinct()
        async with self._db.read() as session:
            return set((await session.exec(stmt)).all())

    async def sendable(
        self, channel: str, *, now: datetime | None = None, limit: int = 500
    ) -> list[tuple[int, str]]:
        """The (id, status) of a channel's `unposted` rows, in order: a sender claims each
        one, which loads it, so loading them all here first would be wasted work."""
        stmt = (
            select(OutboxMessage.id, OutboxMessage.status)
            .where(_sendable(now or utcnow()), col(OutboxMessage.channel) == channel)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        async with self._db.read() as session:
            rows = (await session.exec(stmt)).all()
        return [(row_id, status) for row_id, status in rows if row_id is not None]

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        if self._db.hot is not None:
            raw = await self._db.hot.read(lambda conn: hot_queue.outbox_by_key(conn, dedupe_key))
            return None if raw is None else hot_queue.decoded(OutboxMessage, raw)
        stmt = select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == dedupe_key)
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def get(self, row_id: int) -> OutboxMessage | None:
        async with self._db.read() as session:
            return await session.get(OutboxMessage, row_id)


def _sendable(now: datetime) -> Any:
    """Pending rows not waiting out a retry delay, and `sending` rows whose lease or delay ran
    out (their sender died, or Slack failed in a way that may have posted them)."""
    return or_(
        and_(
            col(OutboxMessage.status) == PENDING,
            or_(col(OutboxMessage.locked_until).is_(None), col(OutboxMessage.locked_until) < now),
        ),
        and_(col(OutboxMessage.status) == SENDING, col(OutboxMessage.locked_until) < now),
    )
