"""A turn in, a reply out: the supervisor's boundary types."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.metering import ModelCall
from agents.results import Turn as Turn  # the one Turn; the router's boundary names it
from agents.spend_budget import BudgetReached
from agents.usage import Usage
from router.decision import RouteDecision


@dataclass(frozen=True, kw_only=True)
class ReplyPart:
    agent: str
    text: str
    second_opinion: bool = False
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PendingApproval:
    """An approval asked for in this turn, as stored: what the reply says is pending."""

    id: str
    agent: str
    tool: str
    summary: str
    rationale: str
    calls: tuple[str, ...] = ()  # each call's summary, when the request holds several
    total: str = ""  # the money of all its calls, per currency


@dataclass(frozen=True, kw_only=True)
class Reply:
    text: str
    agent: str
    parts: list[ReplyPart]
    decision: RouteDecision
    approvals: list[PendingApproval] = field(default_factory=list)
    degraded: bool = False
    holding: bool = False
    usage: Usage = field(default_factory=Usage)
    message_id: int | None = None
    streamed: str = ""  # the start of `text` already streamed into the thread as it was written
    calls: tuple[ModelCall, ...] = ()  # every model call of the turn, the router's included
    budget: BudgetReached | None = None  # the money budget that kept it on the offline model
