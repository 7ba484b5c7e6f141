"""What an agent run produces. Plain dataclasses: the router merges them, bot/ renders them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agents.llm import Usage

CallStatus = Literal["ok", "error", "invalid", "approval_requested", "unknown_tool"]


@dataclass(frozen=True)
class TurnInput:
    """The turn as an agent needs it; `event_id` seeds the idempotency keys of its tool calls."""

    team_id: str
    channel: str
    thread_ts: str
    user_id: str
    text: str
    event_id: str


@dataclass(frozen=True)
class ToolCallRecord:
    id: str
    name: str
    arguments: dict[str, Any]
    status: CallStatus
    output: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ApprovalRequest:
    """A high-risk call that did not run. Arguments are the validated ones, never re-read later."""

    agent: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    rationale: str
    tool_call_id: str


@dataclass(frozen=True)
class Handoff:
    to: str
    reason: str


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ToolOutcome:
    """How an approved (or rejected) call ended, handed back to the agent when it resumes."""

    status: Literal["executed", "failed", "rejected", "expired"]
    output: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    def as_tool_message(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, **self.output}
