"""A turn's approval requests, stored as rows the approvers decide on.

These rows are written while the turn runs, not with the rest of the turn at its end: the card
and the reply name the row's id, and a turn re-run after a crash must find the row it asked for
(by the request's key) rather than ask the approvers twice. Each row and its audit entry are one
transaction, so a crash between them cannot leave an approval nobody audited.
"""

from __future__ import annotations

from agents.agent import Agent
from agents.results import ApprovalRequest, RequestedCall, money_total
from router.approvals import ApprovalRules, Approvers
from router.tracing import approval_requested
from router.turn import PendingApproval, Turn
from storage.approvals import NewApproval
from storage.columns import utcnow
from storage.store import Store
from storage.tables import Approval, AuditEntry


class ApprovalRequests:
    def __init__(self, store: Store, agents: dict[str, Agent], rules: ApprovalRules) -> None:
        self.store = store
        self.agents = agents
        self.rules = rules

    async def request(self, turn: Turn, request: ApprovalRequest) -> list[PendingApproval]:
        """Store the request as approvals: one per approver rule among its calls (usually one).

        Each carries the turn's key for it, so a turn re-run after a crash finds the approval
        it asked for before instead of asking again.
        """
        groups: dict[Approvers, list[RequestedCall]] = {}
        for call in request.calls:
            groups.setdefault(self.rules.for_call(request.agent, call.tool), []).append(call)
        pending = []
        for index, (rule, calls) in enumerate(groups.items()):
            part = ApprovalRequest(
                agent=request.agent,
                calls=tuple(calls),
                rationale=request.rationale,
                key=request.key,
            )
            key = request.key if index == 0 else f"{request.key}:{index}"
            pending.append(await self._store(turn, part, rule, key or None))
        return pending

    @approval_requested  # its span; the row carries it, so the click links back
    async def _store(
        self, turn: Turn, request: ApprovalRequest, rule: Approvers, key: str | None
    ) -> PendingApproval:
        details = {
            "tools": [c.tool for c in request.calls],
            "arguments": [c.arguments for c in request.calls],
            "requester": turn.user_id,
            "thread": f"{turn.channel}:{turn.thread_ts}",
            "event_id": turn.event_id,
        }
        approval, _ = await self.store.approvals.request(
            NewApproval(
                channel=turn.channel,
                thread_ts=turn.thread_ts,
                agent=request.agent,
                tool=request.tool,
                arguments=request.arguments,
                summary=request.summary,
                rationale=request.rationale,
                requester=turn.user_id,
                approvers=[*rule.users, *rule.groups],
                required_approvals=max(rule.required, self._tool_requires(request)),
                expires_at=utcnow() + self.rules.expires_after,
                team_id=turn.team_id,
                calls=[c.as_dict() for c in request.calls],
                request_key=key,
            ),
            audit=lambda approval_id: AuditEntry(
                actor=request.agent,
                action="approval.requested",
                subject=f"approval:{approval_id}",
                details=details,
            ),
        )
        return pending(approval)

    def _tool_requires(self, request: ApprovalRequest) -> int:
        """A tool may ask for more approvers for some arguments (a refund above a second limit).

        For a request of several calls, the most any of them asks for.
        """
        needed = 1
        for call in request.calls:
            tool = self.agents[request.agent].tool(call.tool)
            if tool is not None:
                needed = max(needed, tool.approvers_for(tool.parse(call.arguments)))
        return needed


def pending(approval: Approval) -> PendingApproval:
    calls = [RequestedCall.from_dict(c) for c in approval.calls or []]
    return PendingApproval(
        id=approval.id,
        agent=approval.agent,
        tool=approval.tool,
        summary=approval.summary,
        rationale=approval.rationale,
        calls=tuple(c.summary for c in calls) if len(calls) > 1 else (),
        total=money_total(calls) if len(calls) > 1 else "",
    )


def request_of(approval: Approval) -> ApprovalRequest:
    """The stored approval as the agent asked for it; for one call the id stands for its call id.

    Rows from before approvals held lists have no `calls`: their one call is rebuilt from
    `tool` and `arguments`.
    """
    calls = tuple(RequestedCall.from_dict(c) for c in approval.calls or [])
    if not calls:
        calls = (
            RequestedCall(
                tool=approval.tool,
                arguments=approval.arguments,
                summary=approval.summary,
                call_id=approval.id,
            ),
        )
    if len(calls) == 1:
        only = calls[0]
        calls = (
            RequestedCall(
                tool=only.tool,
                arguments=only.arguments,
                summary=only.summary,
                call_id=approval.id,
                minor=only.minor,
                currency=only.currency,
            ),
        )
    return ApprovalRequest(
        agent=approval.agent,
        calls=calls,
        rationale=approval.rationale,
        key=approval.request_key or "",
    )
