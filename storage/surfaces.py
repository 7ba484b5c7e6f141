"""The app's own surfaces in Slack: who has opened its Home tab (and when it was last published
for them), and the threads of its assistant panel.

Both are coordination between replicas, so both live here: a Home refresh claims the right to
publish by compare-and-set on `published_at` (at most one publish per interval per person,
however many replicas notice a change), and an assistant thread's title is set once by
compare-and-set on `titled_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.sql import insert_ignore, row_values
from storage.tables import AssistantThread, HomeView


class HomeViews:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def opened(self, user_id: str, team_id: str, *, now: datetime | None = None) -> None:
        """The person opened the Home tab now."""
        now = now or utcnow()
        async with self._db.write() as session:
            row = HomeView(user_id=user_id, team_id=team_id, opened_at=now)
            made = await insert_ignore(
                session, HomeView, row_values(row), returning=col(HomeView.user_id)
            )
            if made is None:
                stmt = (
                    update(HomeView)
                    .where(col(HomeView.user_id) == user_id)
                    .values(opened_at=now, team_id=team_id)
                )
                await session.exec(stmt)

    async def viewers(self, since: datetime) -> list[HomeView]:
        """People who opened the Home tab since `since`."""
        stmt = select(HomeView).where(col(HomeView.opened_at) >= since)
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def claim(
        self, user_id: str, interval: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Take the right to publish now: False if anyone published within `interval`."""
        now = now or utcnow()
        published = col(HomeView.published_at)
        stmt = (
            update(HomeView)
            .where(
                col(HomeView.user_id) == user_id,
                or_(published.is_(None), published <= now - interval),
            )
            .values(published_at=now)
        )
        async with self._db.write() as session:
            return (await session.exec(stmt)).rowcount == 1

    async def published(self, user_id: str, *, now: datetime | None = None) -> None:
        """A publish the person asked for (opening the tab, a click): recorded, not limited."""
        stmt = (
            update(HomeView)
            .where(col(HomeView.user_id) == user_id)
            .values(published_at=now or utcnow())
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def get(self, user_id: str) -> HomeView | None:
        async with self._db.read() as session:
            return await session.get(HomeView, user_id)


class AssistantThreads:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def started(
        self, *, team_id: str, channel: str, thread_ts: str, user_id: str, context: str | None
    ) -> bool:
        """Record a new assistant thread; False when it was recorded already (a retry)."""
        row = AssistantThread(
            team_id=team_id,
            channel=channel,
            thread_ts=thread_ts,
            user_id=user_id,
            context_channel=context,
        )
        async with self._db.write() as session:
            made = await insert_ignore(
                session, AssistantThread, row_values(row), returning=col(AssistantThread.id)
            )
        return made is not None

    async def get(self, channel: str, thread_ts: str) -> AssistantThread | None:
        stmt = select(AssistantThread).where(
            col(AssistantThread.channel) == channel, col(AssistantThread.thread_ts) == thread_ts
        )
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def claim_title(self, channel: str, thread_ts: str, title: str) -> bool:
        """Record the thread's title if it has none yet; True for the one caller that did."""
        stmt = (
            update(AssistantThread)
            .where(
                col(AssistantThread.channel) == channel,
                col(AssistantThread.thread_ts) == thread_ts,
                col(AssistantThread.titled_at).is_(None),
            )
            .values(title=title, titled_at=utcnow())
        )
        async with self._db.write() as session:
            return (await session.exec(stmt)).rowcount == 1
