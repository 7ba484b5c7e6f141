"""Approvals of risky tool calls, and the state machine that makes them execute at most once.

    pending ──► approved ──► executed | failed
       └──────► rejected | expired

Every transition is one UPDATE guarded by the expected current state (compare-and-set). Whoever's
UPDATE changes the row wins; a second click, or a second replica handling the same click, changes
nothing and learns it lost. "approved" therefore also means "claimed for execution".

Expiry is part of that compare-and-set: the UPDATE to approved also requires `expires_at` to be
in the future, so a click a moment after the deadline loses whether or not the sweep has run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.columns import utcnow
from storage.database import Database
from storage.errors import InvalidTransitionError
from storage.tables import Approval, ApprovalDecision, ApprovalStatus, AuditEntry
from storage.trace_context import TraceContext, no_trace_context

PENDING: Final = "pending"
APPROVED: Final = "approved"
REJECTED: Final = "rejected"
EXPIRED: Final = "expired"
EXECUTED: Final = "executed"
FAILED: Final = "failed"

TRANSITIONS: frozenset[tuple[ApprovalStatus, ApprovalStatus]] = frozenset(
    {
        (PENDING, APPROVED),
        (PENDING, REJECTED),
        (PENDING, EXPIRED),
        (APPROVED, EXECUTED),
        (APPROVED, FAILED),
    }
)


class Outcome(StrEnum):
    """What one person's approve click achieved."""

    APPROVED = "approved"  # this click completed the approval: the caller runs the tool
    RECORDED = "recorded"  # counted, but more distinct approvers are needed
    ALREADY_DECIDED = "already_decided"  # this person had already decided
    NOT_PENDING = "not_pending"  # decided, expired or unknown: nothing to do
    EXPIRED = "expired"  # past its deadline: this click moved it to expired; announce it


@dataclass(frozen=True, kw_only=True)
class NewApproval:
    channel: str
    thread_ts: str
    agent: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    rationale: str
    requester: str
    approvers: list[str]
    expires_at: datetime
    required_approvals: int = 1
    team_id: str = ""
    calls: list[dict[str, Any]] | None = None
    request_key: str | None = None


def new_approval_id() -> str:
    """Unguessable, short enough for a button value, and usable as an idempotency key."""
    return "apv_" + secrets.token_hex(8)


class Approvals:
    def __init__(self, db: Database, trace_context: TraceContext = no_trace_context) -> None:
        self._db = db
        self._trace_context = trace_context

    async def create(self, new: NewApproval) -> Approval:
        return (await self.request(new))[0]

    async def request(
        self, new: NewApproval, *, audit: Callable[[str], AuditEntry] | None = None
    ) -> tuple[Approval, bool]:
        """The approval, and whether this call created it.

        With a `request_key`, a second create (a turn re-run after a crash) returns the first
        row instead of asking the approvers twice. `audit` (given the new row's id) is written
        in the same transaction, so a created approval always has its audit entry.
        """
        row = Approval(id=new_approval_id(), trace_context=self._trace_context(), **new.__dict__)
        try:
            async with self._db.write() as session:
                session.add(row)
                if audit is not None:
                    session.add(audit(row.id))
        except IntegrityError:
            if new.request_key is None:
                raise
            existing = await self.by_request_key(new.request_key)
            if existing is None:
                raise
            return existing, False
        return row, True

    async def by_request_key(self, key: str) -> Approval | None:
        stmt = select(Approval).where(col(Approval.request_key) == key)
        async with self._db.read() as session:
            return (await session.exec(stmt)).first()

    async def get(self, approval_id: str) -> Approval | None:
        async with self._db.read() as session:
            return await session.get(Approval, approval_id)

    async def transition(
        self,
        approval_id: str,
        from_status: ApprovalStatus,
        to_status: ApprovalStatus,
        *,
        unexpired_at: datetime | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set; True only for the caller whose update moved the row.

        With `unexpired_at`, the row must also still be open at that moment.
        """
        if (from_status, to_status) not in TRANSITIONS:
            raise InvalidTransitionError(
                f"{from_status} -> {to_status} is not an approval transition"
            )
        stmt = update(Approval).where(
            col(Approval.id) == approval_id, col(Approval.status) == from_status
        )
        if unexpired_at is not None:
            stmt = stmt.where(col(Approval.expires_at) > unexpired_at)
        stmt = stmt.values(status=to_status, updated_at=utcnow(), **fields)
        async with self._db.write() as session:
            result = await session.exec(stmt)
            return result.rowcount == 1

    async def approve(
        self, approval_id: str, user_id: str, *, now: datetime | None = None
    ) -> Outcome:
        """Count one person's approval; claim the approval when enough people have said yes.

        Past `expires_at` nothing is counted and the approval is expired instead (the sweep
        may not have run yet): Outcome.EXPIRED.
        """
        now = now or utcnow()
        approval = await self.get(approval_id)
        if approval is None or approval.status != PENDING:
            return Outcome.NOT_PENDING
        if approval.expires_at <= now:
            return await self._expire_one(approval_id, now)
        counted = await self._decide(approval_id, user_id, "approve", None)
        if await self._count(approval_id, "approve") < approval.required_approvals:
            return Outcome.RECORDED if counted else Outcome.ALREADY_DECIDED
        # Enough people said yes. If this person's yes was recorded before (a crash came
        # between recording it and claiming), the claim is made now rather than never.
        won = await self.transition(
            approval_id, PENDING, APPROVED, unexpired_at=now, decided_by=user_id, decided_at=now
        )
        if won:
            return Outcome.APPROVED
        current = await self.get(approval_id)
        if current is not None and current.status == PENDING and current.expires_at <= now:
            return await self._expire_one(approval_id, now)
        return Outcome.NOT_PENDING

    async def _expire_one(self, approval_id: str, now: datetime) -> Outcome:
        won = await self.transition(approval_id, PENDING, EXPIRED, decided_at=now)
        return Outcome.EXPIRED if won else Outcome.NOT_PENDING

    async def reject(self, approval_id: str, user_id: str, reason: str | None = None) -> bool:
        """One rejection is enough; True when this call is the one that rejected it.

        A rejection needs no deadline: saying no to an expired request changes nothing.
        """
        won = await self.transition(
            approval_id, PENDING, REJECTED, decided_by=user_id, decided_at=utcnow(), reason=reason
        )
        if won:
            await self._decide(approval_id, user_id, "reject", reason)
        return won

    async def mark_executed(self, approval_id: str, result: dict[str, Any]) -> bool:
        return await self.transition(approval_id, APPROVED, EXECUTED, result=result)

    async def mark_failed(
        self, approval_id: str, error: str, result: dict[str, Any] | None = None
    ) -> bool:
        """`result` keeps what did run when some calls of a request failed."""
        return await self.transition(
            approval_id, APPROVED, FAILED, error=error[:2000], result=result
        )

    async def decided_since(self, since: datetime, *, limit: int = 1000) -> list[Approval]:
        """Approvals decided (executed, failed, rejected, expired) since then, oldest first."""
        stmt = (
            select(Approval)
            .where(
                col(Approval.status).in_([EXECUTED, FAILED, REJECTED, EXPIRED]),
                col(Approval.decided_at) >= since,
            )
            .order_by(col(Approval.decided_at))
            .limit(limit)
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def set_card(self, approval_id: str, channel: str, ts: str) -> None:
        stmt = (
            update(Approval)
            .where(col(Approval.id) == approval_id)
            .values(card_channel=channel, card_ts=ts, updated_at=utcnow())
        )
        async with self._db.write() as session:
            await session.exec(stmt)

    async def expire_due(self, *, now: datetime | None = None) -> list[Approval]:
        """Expire every pending approval past its deadline; returns the ones this call expired."""
        now = now or utcnow()
        stmt = select(Approval).where(
            col(Approval.status) == PENDING, col(Approval.expires_at) <= now
        )
        async with self._db.read() as session:
            due = list((await session.exec(stmt)).all())
        expired = []
        for approval in due:
            if await self.transition(approval.id, PENDING, EXPIRED, decided_at=now):
                expired.append(approval)
        return expired

    async def in_status(self, status: ApprovalStatus, *, limit: int = 500) -> list[Approval]:
        """E.g. `approved` at start-up: claimed but not known to have executed."""
        stmt = (
            select(Approval)
            .where(col(Approval.status) == status)
            .order_by(col(Approval.created_at))
            .limit(limit)
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def for_thread(self, channel: str | None, thread_ts: str) -> list[Approval]:
        """Approvals asked for in a thread; with no channel, in any thread with that ts."""
        stmt = select(Approval).where(col(Approval.thread_ts) == thread_ts)
        if channel is not None:
            stmt = stmt.where(col(Approval.channel) == channel)
        stmt = stmt.order_by(col(Approval.created_at))
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def decisions(self, approval_id: str) -> list[ApprovalDecision]:
        stmt = (
            select(ApprovalDecision)
            .where(col(ApprovalDecision.approval_id) == approval_id)
            .order_by(col(ApprovalDecision.id))
        )
        async with self._db.read() as session:
            return list((await session.exec(stmt)).all())

    async def _decide(
        self, approval_id: str, user_id: str, decision: str, reason: str | None
    ) -> bool:
        row = ApprovalDecision(
            approval_id=approval_id, user_id=user_id, decision=decision, reason=reason
        )
        try:
            async with self._db.write() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def _count(self, approval_id: str, decision: str) -> int:
        stmt = select(func.count()).where(
            col(ApprovalDecision.approval_id) == approval_id,
            col(ApprovalDecision.decision) == decision,
        )
        async with self._db.read() as session:
            return int((await session.exec(stmt)).one())
