"""The agents' doors, opened onto the database: storage-backed implementations of their protocols.

Agents never import `storage/` (DESIGN.md); the specialists ask for tickets, incidents, the
thread's messages and the runbooks through the protocols in `agents.casework` and
`agents.connectors.knowledge`. This module implements those over the repositories and turns
storage's rows into the agents' dataclasses, so neither side learns the other's types.
`default_deps` is the demo set of every door, which `bot.wiring` adjusts from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from agents.casework import Incident, Incidents, ThreadLog, ThreadMessage, Ticket, Tickets
from agents.connectors.knowledge import KnowledgeBase, KnowledgeBaseError, KnowledgeHit
from agents.connectors.paging import Pager
from agents.connectors.status import StatusChecker
from agents.demo import DEMO_KB
from agents.specialists.factory import SpecialistDeps
from bot.doors.demo_ledger import DemoLedger
from storage import knowledge, records, tables
from storage.memory import Memory
from storage.store import Store


def _ticket(row: tables.Ticket) -> Ticket:
    assert row.id is not None  # a stored row has its id
    return Ticket(
        id=row.id, title=row.title, category=row.category, priority=row.priority, status=row.status
    )


def _incident(row: tables.Incident) -> Incident:
    assert row.id is not None
    return Incident(id=row.id, title=row.title, severity=row.severity, status=row.status)


class StoredTickets:
    """`Tickets` over the tickets table."""

    def __init__(self, tickets: records.Tickets) -> None:
        self.tickets = tickets

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
        row = await self.tickets.open(
            channel=channel,
            thread_ts=thread_ts,
            title=title,
            category=category,
            priority=priority,
            requester=requester,
            idempotency_key=idempotency_key,
        )
        return _ticket(row)

    async def for_thread(self, channel: str, thread_ts: str) -> list[Ticket]:
        return [_ticket(row) for row in await self.tickets.for_thread(channel, thread_ts)]


class StoredIncidents:
    """`Incidents` over the incidents table."""

    def __init__(self, incidents: records.Incidents) -> None:
        self.incidents = incidents

    async def open(
        self, *, channel: str, thread_ts: str, title: str, severity: str, idempotency_key: str
    ) -> Incident:
        row = await self.incidents.open(
            channel=channel,
            thread_ts=thread_ts,
            title=title,
            severity=severity,
            idempotency_key=idempotency_key,
        )
        return _incident(row)

    async def for_thread(self, channel: str, thread_ts: str) -> list[Incident]:
        return [_incident(row) for row in await self.incidents.for_thread(channel, thread_ts)]


class StoredThreads:
    """`ThreadLog` over the threads' memory."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def messages(self, team_id: str, channel: str, thread_ts: str) -> list[ThreadMessage]:
        thread = await self.memory.find_thread(team_id, channel, thread_ts)
        if thread is None or thread.id is None:
            return []
        return [
            ThreadMessage(
                role=m.role,
                text=m.text,
                user_id=m.user_id,
                agent=m.agent,
                tool_calls=list(m.tool_calls or []),
            )
            for m in await self.memory.messages(thread.id)
        ]


class StoredKnowledge:
    """`KnowledgeBase` over the runbooks' full-text index; `index` is there to close it."""

    def __init__(self, index: knowledge.KnowledgeIndex) -> None:
        self.index = index

    async def search(self, query: str, limit: int) -> list[KnowledgeHit]:
        try:
            hits = await self.index.search_async(query, limit)
        except knowledge.KnowledgeBaseError as exc:
            raise KnowledgeBaseError(str(exc)) from exc
        return [
            KnowledgeHit(path=h.path, heading=h.heading, snippet=h.snippet, body=h.body)
            for h in hits
        ]


def casework(store: Store) -> tuple[Tickets, Incidents, ThreadLog]:
    """The doors to the records a thread's support work leaves, over one store."""
    return (
        StoredTickets(store.tickets),
        StoredIncidents(store.incidents),
        StoredThreads(store.memory),
    )


def default_deps(
    store: Store,
    *,
    pager: Pager,
    ledger_path: str | Path = ":memory:",
    knowledge_dir: str | Path | None = None,
    health_checks: Mapping[str, str] | None = None,
    health_timeout: float | timedelta = 3.0,
) -> SpecialistDeps:
    """The demo setup: the SQLite demo ledger and the packaged runbooks unless told otherwise.

    Give ``ledger_path`` a file to keep demo refunds across restarts (":memory:" forgets them).
    """
    timeout = (
        health_timeout.total_seconds() if isinstance(health_timeout, timedelta) else health_timeout
    )
    tickets, incidents, threads = casework(store)
    runbooks: KnowledgeBase = StoredKnowledge(knowledge.KnowledgeIndex(knowledge_dir or DEMO_KB))
    return SpecialistDeps(
        tickets=tickets,
        incidents=incidents,
        threads=threads,
        billing=DemoLedger(ledger_path),
        knowledge=runbooks,
        status=StatusChecker(health_checks or {}, timeout),
        pager=pager,
    )
