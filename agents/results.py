"""What an agent run produces. Plain dataclasses: the router merges them, bot/ renders them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agents.connectors.billing import format_money
from agents.usage import Usage

CallStatus = Literal["ok", "error", "invalid", "approval_requested", "unknown_tool"]


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One user message, as the router and the agents see it. `thread_ts` is the thread it
    belongs to (its own ts when it starts one); `event_id` seeds the idempotency keys of its
    tool calls; `ts` is "" for work no message started (an approval's follow-up)."""

    team_id: str
    channel: str
    thread_ts: str
    user_id: str
    text: str
    event_id: str
    ts: str = ""


@dataclass(frozen=True, kw_only=True)
class ToolCallRecord:
    id: str
    name: str
    arguments: dict[str, Any]
    status: CallStatus
    output: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class RequestedCall:
    """One call waiting for approval. Arguments are the validated ones, never re-read later."""

    tool: str
    arguments: dict[str, Any]
    summary: str
    call_id: str
    minor: int | None = None  # the money it moves, for the card's total
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RequestedCall:
        return cls(
            tool=str(raw["tool"]),
            arguments=dict(raw.get("arguments") or {}),
            summary=str(raw.get("summary") or ""),
            call_id=str(raw.get("call_id") or ""),
            minor=raw.get("minor"),
            currency=raw.get("currency"),
        )


@dataclass(frozen=True, kw_only=True)
class ApprovalRequest:
    """The risky calls of one model step, none of them run: approving approves exactly these.

    `key` names the request within its turn (event id, agent, step), so a turn re-run after a
    crash finds the approval it already asked for.
    """

    agent: str
    calls: tuple[RequestedCall, ...]
    rationale: str
    key: str = ""

    @property
    def tool(self) -> str:
        return self.calls[0].tool

    @property
    def arguments(self) -> dict[str, Any]:
        return self.calls[0].arguments

    @property
    def tool_call_id(self) -> str:
        return self.calls[0].call_id

    @property
    def summary(self) -> str:
        if len(self.calls) == 1:
            return self.calls[0].summary
        total = money_total(self.calls)
        return f"{len(self.calls)} actions" + (f", {total} in total" if total else "")


def money_total(calls: tuple[RequestedCall, ...] | list[RequestedCall]) -> str:
    """The sum per currency, written for people ("$2,475.00"; "$10.00 + €5.00")."""
    sums: dict[str, int] = {}
    for call in calls:
        if call.minor is not None and call.currency:
            sums[call.currency] = sums.get(call.currency, 0) + call.minor
    return " + ".join(format_money(v, k) for k, v in sorted(sums.items()))


@dataclass(frozen=True)
class Handoff:
    to: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AgentResult:
    agent: str
    text: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    handoff: Handoff | None = None
    usage: Usage = field(default_factory=Usage)
    confident: bool = True
    degraded: bool = False
    model: str = ""


OutcomeStatus = Literal["executed", "failed", "rejected", "expired"]


@dataclass(frozen=True, kw_only=True)
class ToolOutcome:
    """How an approved (or rejected) request ended, handed back to the agent when it resumes.

    For a request of several calls, `calls` holds each call's own outcome, in order.
    """

    status: OutcomeStatus
    output: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    calls: tuple[ToolOutcome, ...] = ()

    def as_tool_message(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, **self.output}

    def each(self, count: int) -> list[ToolOutcome]:
        """One outcome per call: its own when known, else the request's (rejected, expired)."""
        if len(self.calls) == count:
            return list(self.calls)
        return [ToolOutcome(status=self.status, output=self.output, detail=self.detail)] * count
