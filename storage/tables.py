"""The tables. Each row type is a SQLModel class; repositories are the only code that touches them.

Slack identifiers are kept as Slack gives them (strings: `C0123`, `1732190000.000100`). Business
records (tickets, incidents, approvals) name their thread by (channel, thread_ts) rather than by a
foreign key, so purging old conversations under the retention policy never deletes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlmodel import AutoString, Field, SQLModel

from storage.columns import BigId, UTCDateTime, utcnow

# The states a row moves through, and the kinds of outbox message: the only strings those
# columns hold (the repositories move rows between them; see each module's docstring).
InboxStatus = Literal["received", "processing", "done", "failed"]
OutboxStatus = Literal["pending", "sending", "posted", "failed", "streaming"]
OutboxKind = Literal["post", "update", "ephemeral", "replace", "stream"]
ApprovalStatus = Literal["pending", "approved", "rejected", "expired", "executed", "failed"]
DigestRunStatus = Literal["running", "posted", "failed"]


def _when(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _json(default: Any = None) -> Any:
    factory = (lambda: None) if default is None else default
    return Field(default_factory=factory, sa_type=JSON, nullable=default is None)


def _text(*, nullable: bool = False, default: str | None = "") -> Any:
    return Field(default=default, sa_type=Text, nullable=nullable)


class InboxEvent(SQLModel, table=True):
    """Every inbound Slack event, written before it is acknowledged, so a crash loses nothing."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_inbox_event_id"),
        UniqueConstraint("channel", "message_ts", name="uq_inbox_channel_ts"),
        Index("ix_inbox_status_locked", "status", "locked_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    team_id: str = Field(default="", max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = _json(default=dict)
    status: InboxStatus = Field(default="received", sa_type=AutoString(length=16))
    attempts: int = 0
    error: str | None = _text(nullable=True, default=None)
    locked_by: str | None = Field(default=None, max_length=64)
    locked_until: datetime | None = _when(nullable=True)
    received_at: datetime = _when()
    updated_at: datetime = _when()
    # The intake's span as a W3C traceparent: the worker continues its trace (any replica).
    trace_context: str | None = Field(default=None, max_length=64)


class Thread(SQLModel, table=True):
    """One Slack thread: the unit of memory. `agent` is who answered last, for continuity."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("team_id", "channel", "thread_ts", name="uq_thread_key"),
        Index("ix_threads_updated_at", "updated_at"),
        Index("ix_threads_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    agent: str | None = Field(default=None, max_length=32)
    summary: str = _text()
    summary_tokens: int = 0
    summary_upto: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Message(SQLModel, table=True):
    """A message of a thread, with why it was routed where it was and what it cost."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_id_id", "thread_id", "id"),
        # Digests aggregate a time window; the other columns make their passes index-only.
        Index(
            "ix_messages_created_at",
            "created_at",
            "thread_id",
            "role",
            "agent",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    thread_id: int = Field(
        sa_column=Column(ForeignKey("threads.id", ondelete="CASCADE"), nullable=False)
    )
    role: str = Field(max_length=16)
    agent: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    text: str = _text()
    tokens: int = 0
    routes: list[dict[str, Any]] | None = _json()
    route_confidence: float | None = None
    route_source: str | None = Field(default=None, max_length=16)
    route_reason: str | None = _text(nullable=True, default=None)
    tool_calls: list[dict[str, Any]] | None = _json()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    slack_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()


class Approval(SQLModel, table=True):
    """A risky tool call waiting for humans. Every status change is a compare-and-set."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status_expires", "status", "expires_at"),
        Index("ix_approvals_created_at", "created_at"),
        Index("ix_approvals_decided_at", "decided_at"),
        Index("uq_approvals_request_key", "request_key", unique=True),
    )

    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(default="", max_length=32)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    agent: str = Field(max_length=32)
    tool: str = Field(max_length=64)
    arguments: dict[str, Any] = _json(default=dict)
    summary: str = _text()
    rationale: str = _text()
    requester: str = Field(max_length=32)
    approvers: list[str] = _json(default=list)
    required_approvals: int = 1
    status: ApprovalStatus = Field(default="pending", sa_type=AutoString(length=16))
    card_channel: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = _when(nullable=True)
    reason: str | None = _text(nullable=True, default=None)
    result: dict[str, Any] | None = _json()
    error: str | None = _text(nullable=True, default=None)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    # Every call the approver sees on the card, in order: approving approves exactly these.
    # `tool`, `arguments` and `summary` above describe the first, or the list as a whole.
    calls: list[dict[str, Any]] | None = _json()
    # The turn's own name for this request (event id, agent, ordinal): a turn re-run after a
    # crash finds its approval instead of asking twice.
    request_key: str | None = Field(default=None, max_length=200)
    # The span that asked for it (W3C traceparent): the click that decides it links there.
    trace_context: str | None = Field(default=None, max_length=64)


class ApprovalDecision(SQLModel, table=True):
    """One person's yes or no. Unique per person, so N approvals means N different people."""

    __tablename__ = "approval_decisions"
    __table_args__ = (UniqueConstraint("approval_id", "user_id", name="uq_decision_user"),)

    id: int | None = Field(default=None, primary_key=True)
    approval_id: str = Field(
        sa_column=Column(ForeignKey("approvals.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: str = Field(max_length=32)
    decision: str = Field(max_length=16)
    reason: str | None = _text(nullable=True, default=None)
    created_at: datetime = _when()


class Ticket(SQLModel, table=True):
    """A support ticket opened by triage."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_created_at", "created_at"),
        Index("uq_tickets_idempotency_key", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    title: str = _text()
    category: str = Field(default="general", max_length=32)
    priority: str = Field(default="normal", max_length=16)
    status: str = Field(default="open", max_length=16)
    requester: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    idempotency_key: str | None = Field(default=None, max_length=200)  # a re-run finds it


class Incident(SQLModel, table=True):
    """An incident opened by escalation."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status", "status"),
        Index("ix_incidents_created_at", "created_at"),
        Index("uq_incidents_idempotency_key", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    title: str = _text()
    severity: str = Field(default="SEV3", max_length=8)
    status: str = Field(default="open", max_length=16)
    commander: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    idempotency_key: str | None = Field(default=None, max_length=200)  # a re-run finds it


class Spend(SQLModel, table=True):
    """Money moved without a human's approval, one row per scope it counts against.

    Approval limits apply to totals: per turn, per customer account and per requester over a
    rolling window. A call reserves its amount in every scope at once before it runs, so two
    replicas cannot both spend the last of a limit. `units` are hundredths of a major unit.
    """

    __tablename__ = "spend"
    __table_args__ = (
        UniqueConstraint("key", "scope", name="uq_spend_key_scope"),
        Index("ix_spend_scope_at", "scope", "created_at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    key: str = Field(max_length=200)
    scope: str = Field(max_length=200)
    units: int = Field(sa_type=BigInteger)
    created_at: datetime = _when()


class AuditEntry(SQLModel, table=True):
    """Append-only record of who did what. The repository offers no update or delete."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_subject", "subject", "id"),
        Index("ix_audit_at", "at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    subject: str = Field(max_length=128)
    at: datetime = _when()
    details: dict[str, Any] = _json(default=dict)


class OutboxMessage(SQLModel, table=True):
    """A reply waiting to be sent to Slack. `dedupe_key` stops a retried turn enqueuing twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        Index("ix_outbox_status_locked", "status", "locked_until"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    dedupe_key: str = Field(max_length=200)
    kind: OutboxKind = Field(default="post", sa_type=AutoString(length=16))
    channel: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    target_ts: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    text: str = _text()
    blocks: list[dict[str, Any]] | None = _json()
    status: OutboxStatus = Field(default="pending", sa_type=AutoString(length=16))
    attempts: int = 0
    error: str | None = _text(nullable=True, default=None)
    slack_ts: str | None = Field(default=None, max_length=32)
    locked_by: str | None = Field(default=None, max_length=64)
    locked_until: datetime | None = _when(nullable=True)
    created_at: datetime = _when()
    posted_at: datetime | None = _when(nullable=True)
    # The span of the work that queued it (W3C traceparent): the post joins that trace.
    trace_context: str | None = Field(default=None, max_length=64)


class DigestRun(SQLModel, table=True):
    """One posting of a digest. Unique per period, so two schedulers cannot post it twice."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("name", "period_start", name="uq_digest_period"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    channel: str = Field(max_length=32)
    status: DigestRunStatus = Field(default="running", sa_type=AutoString(length=16))
    slack_ts: str | None = Field(default=None, max_length=32)
    error: str | None = _text(nullable=True, default=None)
    started_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)


class Lease(SQLModel, table=True):
    """A named lease with an expiry: how replicas agree who runs the scheduler or a thread."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=200)
    owner: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class SchedulerJob(SQLModel, table=True):
    """APScheduler's job store table, exactly as its SQLAlchemyJobStore defines it.

    Only the job store reads and writes it (the pickled job and its next run time, as a UTC
    timestamp). It is declared here so the migrations create it, the schema test covers it, and a
    replica never has to create tables at run time.
    """

    __tablename__ = "apscheduler_jobs"

    id: str = Field(sa_type=Unicode(191), primary_key=True)
    next_run_time: float | None = Field(default=None, sa_type=Float(25), index=True)
    job_state: bytes = Field(sa_type=LargeBinary, nullable=False)


class Correction(SQLModel, table=True):
    """A person said a reply came from the wrong specialist. One per reply (a unique key), so a
    double click or two replicas record it once; the text and route are training data."""

    __tablename__ = "route_corrections"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_correction_message"),
        Index("ix_route_corrections_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(sa_type=BigInteger)  # the corrected reply (not a foreign key: purges)
    team_id: str = Field(default="", max_length=32)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    text: str = _text()
    from_route: str = Field(max_length=32)
    to_route: str = Field(max_length=32)
    corrected_by: str = Field(max_length=32)
    created_at: datetime = _when()


class AssistantThread(SQLModel, table=True):
    """A thread of the assistant panel (Slack's split view): whose it is, what they were looking
    at when they opened it, and its title, set once (a compare-and-set on `titled_at`)."""

    __tablename__ = "assistant_threads"
    __table_args__ = (
        UniqueConstraint("channel", "thread_ts", name="uq_assistant_thread"),
        Index("ix_assistant_threads_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default="", max_length=32)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    context_channel: str | None = Field(default=None, max_length=32)
    title: str | None = _text(nullable=True, default=None)
    titled_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class HomeView(SQLModel, table=True):
    """Someone opened the app's Home tab. Whose Home to refresh when what it shows changes, and
    when it was last published: a refresh claims `published_at` by compare-and-set, so every
    replica together publishes a person's Home at most once per interval."""

    __tablename__ = "home_views"

    user_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(default="", max_length=32)
    opened_at: datetime = _when()
    published_at: datetime | None = _when(nullable=True)


class ModelCallRecord(SQLModel, table=True):
    """One answered model call: who made it, for which thread, its tokens and its cost in USD.

    Cost is summed from here per thread, agent, channel, model and day (`storage.costs`), and
    money budgets are checked against these sums, so they hold across replicas. No content is
    kept, and the rows outlive the conversations' retention: they are the cost history.
    """

    __tablename__ = "model_calls"
    __table_args__ = (
        # The window sums (stats, the day's total) read only this index.
        Index(
            "ix_model_calls_created_at",
            "created_at",
            "channel",
            "agent",
            "model",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ),
        Index("ix_model_calls_channel_at", "channel", "created_at", "cost_usd"),
        Index("ix_model_calls_thread", "channel", "thread_ts", "cost_usd"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    turn: str = Field(max_length=200)  # the event id (or approval id) of the turn
    team_id: str = Field(default="", max_length=32)
    channel: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    agent: str = Field(max_length=32)
    model: str = Field(max_length=200)
    response_model: str | None = Field(default=None, max_length=200)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    created_at: datetime = _when()
