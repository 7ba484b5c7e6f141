"""The records support work leaves behind, as the specialists see them: tickets, incidents and
the thread's messages.

Agents do not import `storage/` (see DESIGN.md): these protocols are the narrow doors the
specialists' tools go through, and `bot.doors` implements them over the repositories. Each
protocol holds only what a tool calls, so a test can hand in a small fake just as well.

Tickets and incidents are opened with the key the tool runs under (the approval's id, or the
turn's key): opening again with the same key returns the first record instead of a second one,
which is what makes re-running a tool after a crash safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Ticket:
    id: int
    title: str
    category: str
    priority: str
    status: str


@dataclass(frozen=True, kw_only=True)
class Incident:
    id: int
    title: str
    severity: str
    status: str


@dataclass(frozen=True, kw_only=True)
class ThreadMessage:
    """One message of a thread: who said it (a user, or which agent and with which tools)."""

    role: str
    text: str
    user_id: str | None = None
    agent: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


class Tickets(Protocol):
    async def open(
        self,
        *,
        channel: str,
        thread_ts: str,
        title: str,
        category: str,
        priority: str,
        requester: str | None,
        idempotency_key: str,
    ) -> Ticket:
        """Open a ticket for the thread; the same key again returns the first one."""
        ...

    async def for_thread(self, channel: str, thread_ts: str) -> list[Ticket]:
        """The thread's tickets, oldest first."""
        ...


class Incidents(Protocol):
    async def open(
        self, *, channel: str, thread_ts: str, title: str, severity: str, idempotency_key: str
    ) -> Incident:
        """Open an incident for the thread; the same key again returns the first one."""
        ...

    async def for_thread(self, channel: str, thread_ts: str) -> list[Incident]:
        """The thread's incidents, oldest first."""
        ...


class ThreadLog(Protocol):
    async def messages(self, team_id: str, channel: str, thread_ts: str) -> list[ThreadMessage]:
        """The whole thread, oldest first; empty for a thread nobody has written to yet."""
        ...
