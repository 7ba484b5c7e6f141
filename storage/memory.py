"""Thread memory: each Slack thread's messages, its running summary, and its current agent.

`window` is what a model sees of a thread: the summary of older turns plus the newest messages
that fit a token budget. It reads newest-first in small pages, so its cost depends on the budget,
not on how long the thread or the table is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.hotpath import insert_messages, stored_json, stored_time, window_rows
from storage.sql import insert_ignore, row_values
from storage.tables import Message, Thread

_PAGE = 64


def estimate_tokens(text: str) -> int:
    """A cheap stand-in for a tokenizer (about four characters a token in English)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(frozen=True, kw_only=True)
class RouteRecord:
    """Why a message went where it went; stored with the message so it can always be asked."""

    routes: list[dict[str, Any]]
    confidence: float
    source: str
    reason: str


@dataclass(frozen=True)
class StoredUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True)
class WindowMessage:
    """The part of a stored message a prompt needs."""

    id: int
    role: str
    agent: str | None
    user_id: str | None
    text: str
    tokens: int

    @classmethod
    def of(cls, row: Sequence[Any]) -> WindowMessage:
        """From an (id, role, agent, user_id, text, tokens) row of the window's queries."""
        id_, role, agent, user_id, text, tokens = row
        return cls(id=id_, role=role, agent=agent, user_id=user_id, text=text, tokens=tokens)


_WINDOW_COLUMNS = [
    col(Message.id),
    col(Message.role),
    col(Message.agent),
    col(Message.user_id),
    col(Message.text),
    col(Message.tokens),
]


@dataclass(frozen=True, kw_only=True)
class Window:
    """Oldest first, as a model expects them."""

    thread_id: int
    summary: str
    messages: list[WindowMessage]
    tokens: int


class Memory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def thread(self, team_id: str, channel: str, thread_ts: str) -> Thread:
        """The thread with this key, created on first use (safe when two tasks race)."""
        return (await self.open_thread(team_id, channel, thread_ts))[0]

    async def open_thread(self, team_id: str, channel: str, thread_ts: str) -> tuple[Thread, bool]:
        """The thread, and whether this call created it (a new thread has nothing to read)."""
        found = await self.find_thread(team_id, channel, thread_ts)
        if found is not None:
            return found, False
        row = Thread(team_id=team_id, channel=channel, thread_ts=thread_ts)
        async with self._db.write() as session:
            new_id = await insert_ignore(session, Thread, row_values(row), returning=col(Thread.id))
        if new_id is not None:
            row.id = new_id
            return row, True
        raced = await self.find_thread(team_id, channel, thread_ts)  # another task created it
        assert raced is not None
        return raced, False

    async def find_thread(self, team_id: str, channel: str, thread_ts: str) -> Thread | None:
        stmt = select(Thread).where(
            col(Thread.team_id) == team_id,
            col(Thread.channel) == channel,
            col(Thread.thread_ts) == thread_ts,
        )
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def get_thread(self, thread_id: int) -> Thread | None:
        async with self._db.read() as session:
            return await session.get(Thread, thread_id)

    async def append(
        self,
        thread_id: int,
        *,
        role: str,
        text: str,
        agent: str | None = None,
        user_id: str | None = None,
        tokens: int | None = None,
        route: RouteRecord | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        usage: StoredUsage | None = None,
        slack_ts: str | None = None,
    ) -> Message:
        """Add a message; an assistant message also makes its agent the thread's current one."""
        row = new_message(
            thread_id,
            role=role,
            text=text,
            agent=agent,
            user_id=user_id,
            tokens=tokens,
            route=route,
            tool_calls=tool_calls,
            usage=usage,
            slack_ts=slack_ts,
        )
        return (await self.append_many(thread_id, [row]))[0]

    async def append_many(self, thread_id: int, rows: list[Message]) -> list[Message]:
        """Several messages in one transaction, in order (a turn's question and its answer)."""
        if self._db.hot is not None:
            return await self._append_hot(thread_id, rows)
        touch: dict[str, Any] = {"updated_at": rows[-1].created_at}
        for row in rows:
            if row.role == "assistant" and row.agent:
                touch["agent"] = row.agent
        async with self._db.write() as session:
            for row in rows:
                values = row.model_dump(exclude={"id"})
                inserted = await session.exec(
                    insert(Message).values(**values).returning(col(Message.id))
                )
                row.id = inserted.scalar_one()
            await session.exec(update(Thread).where(col(Thread.id) == thread_id).values(**touch))
        return rows

    async def edit_by_ts(self, thread_id: int, slack_ts: str, text: str) -> bool:
        """Follow a user's edit or deletion in Slack, so memory holds what they now say."""
        stmt = (
            update(Message)
            .where(col(Message.thread_id) == thread_id, col(Message.slack_ts) == slack_ts)
            .values(text=text, tokens=estimate_tokens(text))
        )
        async with self._db.write() as session:
            return (await session.exec(stmt)).rowcount > 0

    async def _append_hot(self, thread_id: int, rows: list[Message]) -> list[Message]:
        params = [
            {
                **row.model_dump(exclude={"id", "routes", "tool_calls", "created_at"}),
                "routes": stored_json(row.routes),
                "tool_calls": stored_json(row.tool_calls),
                "created_at": stored_time(row.created_at),
            }
            for row in rows
        ]
        touch: dict[str, Any] = {"updated_at": stored_time(rows[-1].created_at)}
        agents = [row.agent for row in rows if row.role == "assistant" and row.agent]
        if agents:
            touch["agent"] = agents[-1]
        ids = await self._db.hot_write(lambda conn: insert_messages(conn, thread_id, params, touch))
        for row, new_id in zip(rows, ids, strict=True):
            row.id = new_id
        return rows

    async def window(self, thread_id: int, token_budget: int) -> Window:
        """The summary plus the newest messages after it that fit in `token_budget` tokens.

        The first page comes with the thread's summary in one query (a join), since most
        threads fit in one page: one round trip for the common case.
        """
        if self._db.hot is not None:
            found = await self._db.hot.read(lambda c: window_rows(c, thread_id, token_budget))
            if found is None:
                return Window(thread_id=thread_id, summary="", messages=[], tokens=0)
            return hot_window(thread_id, found)
        async with self._db.read() as session:
            return await window_in(await session.connection(), thread_id, token_budget)

    async def replace_summary(
        self, thread_id: int, summary: str, *, upto_message_id: int, tokens: int | None = None
    ) -> None:
        """Fold every message up to `upto_message_id` into `summary`; the window starts after it."""
        stmt = (
            update(Thread)
            .where(col(Thread.id) == thread_id)
            .values(
                summary=summary,
                summary_tokens=tokens if tokens is not None else estimate_tokens(summary),
                summary_upto=upto_message_id,
                updated_at=utcnow(),
            )
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def message(self, message_id: int) -> Message | None:
        async with self._db.read() as session:
            return await session.get(Message, message_id)

    async def messages(self, thread_id: int) -> list[Message]:
        """The whole history, oldest first (for summaries and audits, not for prompts)."""
        stmt = select(Message).where(col(Message.thread_id) == thread_id).order_by(col(Message.id))
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())


def new_message(
    thread_id: int,
    *,
    role: str,
    text: str,
    agent: str | None = None,
    user_id: str | None = None,
    tokens: int | None = None,
    route: RouteRecord | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: StoredUsage | None = None,
    slack_ts: str | None = None,
) -> Message:
    usage = usage or StoredUsage()
    return Message(
        thread_id=thread_id,
        role=role,
        text=text,
        agent=agent,
        user_id=user_id,
        tokens=tokens if tokens is not None else estimate_tokens(text),
        routes=route.routes if route else None,
        route_confidence=route.confidence if route else None,
        route_source=route.source if route else None,
        route_reason=route.reason if route else None,
        tool_calls=tool_calls,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        slack_ts=slack_ts,
    )


def hot_window(thread_id: int, found: tuple[str, int, list[tuple[Any, ...]]]) -> Window:
    """The window from `storage.hotpath.window_rows`' (summary, tokens, newest first)."""
    summary, used, newest = found
    return Window(
        thread_id=thread_id,
        summary=summary,
        messages=[WindowMessage.of(r) for r in reversed(newest)],
        tokens=used,
    )


async def window_in(conn: AsyncConnection, thread_id: int, token_budget: int) -> Window:
    """`Memory.window` on an open connection, so a turn's first read can share one session."""
    after_summary = and_(
        col(Message.thread_id) == col(Thread.id), col(Message.id) > col(Thread.summary_upto)
    )
    first = (
        sa_select(col(Thread.summary), col(Thread.summary_tokens), *_WINDOW_COLUMNS)
        .select_from(Thread)
        .outerjoin(Message, after_summary)
        .where(col(Thread.id) == thread_id)
        .order_by(col(Message.id).desc())
        .limit(_PAGE)
    )
    rows = (await conn.execute(first)).all()
    if not rows:
        return Window(thread_id=thread_id, summary="", messages=[], tokens=0)
    summary, used = rows[0][0], rows[0][1]
    page = [tuple(r[2:]) for r in rows if r[2] is not None]
    picked: list[WindowMessage] = []
    while True:
        for row in page:
            message = WindowMessage.of(row)
            if used + message.tokens > token_budget:
                return Window(
                    thread_id=thread_id, summary=summary, messages=picked[::-1], tokens=used
                )
            used += message.tokens
            picked.append(message)
        if len(page) < _PAGE:
            return Window(thread_id=thread_id, summary=summary, messages=picked[::-1], tokens=used)
        older = (
            sa_select(*_WINDOW_COLUMNS)
            .join(Thread, col(Thread.id) == col(Message.thread_id))
            .where(after_summary, col(Thread.id) == thread_id, col(Message.id) < picked[-1].id)
            .order_by(col(Message.id).desc())
            .limit(_PAGE)
        )
        page = [tuple(r) for r in (await conn.execute(older)).all()]
