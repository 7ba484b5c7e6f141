"""A turn's records: read once when it starts, written once, as one transaction, when it ends.

A turn used to visit memory for its thread, its window, its question and answer, and the audit
log separately: several round trips, and a crash between them left half a turn (a thread with
no messages, a question with no answer, an answer whose audit entry never came). Now the turn
reads its thread and window in one go and hands everything it has to say to `record` at the
end: the thread (created if new), its messages, the agent now in charge, its audit entries.
Either all of it is stored or none of it; the inbox row recorded at intake makes a crashed turn
run again, so nothing a person wrote is lost.

What must happen mid-turn stays mid-turn: spend reservations (they guard totals across
concurrent turns), tool side effects under their idempotency keys, and approval rows (a card
names its row, and a re-run must find the row it asked for).

A re-run of a turn whose record was stored (the process died before its reply was queued)
writes nothing a second time: the question's Slack ts identifies it, and the stored answer is
returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.database import Database
from storage.hotpath import opened_rows, recorded_turn, stored_json, stored_time
from storage.memory import Window, hot_window, window_in
from storage.sql import insert_ignore, row_values
from storage.tables import AuditEntry, Message, Thread


@dataclass(frozen=True)
class ThreadKey:
    team_id: str
    channel: str
    thread_ts: str

    def values(self) -> tuple[str, str, str]:
        return self.team_id, self.channel, self.thread_ts


@dataclass(frozen=True, kw_only=True)
class Opened:
    """A thread as a turn finds it. `thread_id` is 0 for a thread the turn's record creates."""

    thread_id: int
    agent: str | None
    window: Window


@dataclass(kw_only=True)
class TurnRecord:
    """Everything a turn writes at its end; its messages get the thread's id when written."""

    key: ThreadKey
    messages: list[Message]
    audit: list[AuditEntry] = field(default_factory=list)
    asked_ts: str | None = None  # the question's Slack ts: a second run of the turn is found


class Turns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, key: ThreadKey, token_budget: int) -> Opened:
        """The thread's id, current agent and window, in one read."""
        if self._db.hot is not None:
            found = await self._db.hot.read(lambda c: opened_rows(c, key.values(), token_budget))
            if found is None:
                return _unopened()
            thread_id, agent, rows = found
            window = hot_window(thread_id, rows) if rows is not None else _empty(thread_id)
            return Opened(thread_id=thread_id, agent=agent, window=window)
        async with self._db.read() as session:
            thread = (await session.exec(_thread_of(key))).first()
            if thread is None:
                return _unopened()
            thread_id, agent = thread
            window = await window_in(await session.connection(), thread_id, token_budget)
            return Opened(thread_id=thread_id, agent=agent, window=window)

    async def record(self, turn: TurnRecord) -> int | None:
        """Store the turn as one transaction; the id of its last message (its answer)."""
        if not turn.messages:
            return None
        if self._db.hot is not None:
            return await self._record_hot(turn)
        async with self._db.write() as session:
            thread_id = await _thread_id(session, turn)
            earlier, rows = await _unanswered(session, thread_id, turn)
            if earlier is not None:
                return earlier
            for row in rows:
                row.thread_id = thread_id
                values = row.model_dump(exclude={"id"})
                inserted = await session.exec(
                    insert(Message).values(**values).returning(col(Message.id))
                )
                row.id = inserted.scalar_one()
            touch = _touch(turn.messages)
            await session.exec(update(Thread).where(col(Thread.id) == thread_id).values(**touch))
            for entry in turn.audit:
                session.add(entry)
        return turn.messages[-1].id

    async def _record_hot(self, turn: TurnRecord) -> int | None:
        params = [
            {
                **row.model_dump(exclude={"id", "routes", "tool_calls", "created_at"}),
                "routes": stored_json(row.routes),
                "tool_calls": stored_json(row.tool_calls),
                "created_at": stored_time(row.created_at),
            }
            for row in turn.messages
        ]
        touch = _touch(turn.messages)
        touch["updated_at"] = stored_time(touch["updated_at"])
        audit = [
            (e.actor, e.action, e.subject, stored_time(e.at), stored_json(e.details))
            for e in turn.audit
        ]
        key = turn.key.values()
        thread_id, ids, earlier = await self._db.hot_write(
            lambda conn: recorded_turn(conn, key, turn.asked_ts, params, touch, audit)
        )
        if earlier is not None:
            return earlier
        for row, new_id in zip(turn.messages[len(turn.messages) - len(ids) :], ids, strict=True):
            row.thread_id, row.id = thread_id, new_id
        return turn.messages[-1].id


def _thread_of(key: ThreadKey) -> Any:
    return select(col(Thread.id), col(Thread.agent)).where(
        col(Thread.team_id) == key.team_id,
        col(Thread.channel) == key.channel,
        col(Thread.thread_ts) == key.thread_ts,
    )


async def _thread_id(session: AsyncSession, turn: TurnRecord) -> int:
    """The thread's id, creating the thread if this is its first turn (safe when racing)."""
    key = turn.key
    row = Thread(team_id=key.team_id, channel=key.channel, thread_ts=key.thread_ts)
    new_id = await insert_ignore(session, Thread, row_values(row), returning=col(Thread.id))
    if new_id is not None:
        return int(new_id)
    found = (await session.exec(_thread_of(key))).one()
    return int(found[0])


async def _unanswered(
    session: AsyncSession, thread_id: int, turn: TurnRecord
) -> tuple[int | None, list[Message]]:
    """(the earlier run's answer, nothing to write) or (None, the rows still to write)."""
    if not turn.asked_ts:
        return None, turn.messages
    mine = col(Message.thread_id) == thread_id
    asked = (
        await session.exec(
            select(col(Message.id))
            .where(mine, col(Message.role) == "user", col(Message.slack_ts) == turn.asked_ts)
            .limit(1)
        )
    ).first()
    if asked is None:
        return None, turn.messages
    answered = (
        await session.exec(
            select(col(Message.id))
            .where(mine, col(Message.id) > asked, col(Message.role) == "assistant")
            .order_by(col(Message.id))
            .limit(1)
        )
    ).first()
    if answered is not None:
        return int(answered), []
    return None, turn.messages[1:]  # a question stored alone (before turns were written as one)


def _touch(messages: list[Message]) -> dict[str, Any]:
    """The thread's new `updated_at`, and its agent: whoever answered last."""
    touch: dict[str, Any] = {"updated_at": messages[-1].created_at}
    agents = [m.agent for m in messages if m.role == "assistant" and m.agent]
    if agents:
        touch["agent"] = agents[-1]
    return touch


def _empty(thread_id: int) -> Window:
    return Window(thread_id=thread_id, summary="", messages=[], tokens=0)


def _unopened() -> Opened:
    return Opened(thread_id=0, agent=None, window=_empty(0))
