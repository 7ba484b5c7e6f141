"""Every repository over one database, so the entry point can pass a single object down."""

from __future__ import annotations

from dataclasses import dataclass

from storage.activity import Activity
from storage.approvals import Approvals
from storage.audit import Audit
from storage.corrections import Corrections
from storage.costs import Costs
from storage.database import Database
from storage.digests import DigestRuns
from storage.inbox import Inbox
from storage.leases import Leases
from storage.memory import Memory
from storage.outbox import Outbox
from storage.records import Incidents, Tickets
from storage.reports import Reports
from storage.spend import Spending
from storage.stats import StatsReport
from storage.surfaces import AssistantThreads, HomeViews
from storage.trace_context import TraceContext, no_trace_context
from storage.turns import Turns


@dataclass(frozen=True, kw_only=True)
class Store:
    db: Database
    inbox: Inbox
    memory: Memory
    turns: Turns
    approvals: Approvals
    tickets: Tickets
    incidents: Incidents
    audit: Audit
    outbox: Outbox
    digests: DigestRuns
    leases: Leases
    reports: Reports
    spending: Spending
    corrections: Corrections
    activity: Activity
    home_views: HomeViews
    assistant_threads: AssistantThreads
    costs: Costs
    stats: StatsReport

    @classmethod
    def over(cls, db: Database, *, trace_context: TraceContext = no_trace_context) -> Store:
        """Every repository over `db`; rows that later work continues carry `trace_context()`."""
        return cls(
            db=db,
            inbox=Inbox(db, trace_context),
            memory=Memory(db),
            turns=Turns(db),
            approvals=Approvals(db, trace_context),
            tickets=Tickets(db),
            incidents=Incidents(db),
            audit=Audit(db),
            outbox=Outbox(db, trace_context),
            digests=DigestRuns(db),
            leases=Leases(db),
            reports=Reports(db),
            spending=Spending(db),
            corrections=Corrections(db),
            activity=Activity(db),
            home_views=HomeViews(db),
            assistant_threads=AssistantThreads(db),
            costs=Costs(db),
            stats=StatsReport(db),
        )

    async def close(self) -> None:
        await self.db.dispose()
