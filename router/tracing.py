"""The router's spans: the route decision, and each approval a turn asks for.

The decision span answers "why did it pick billing?" in the trace itself: the routes with their
confidences, and the stage that decided (rule, continuity, classifier, llm). The reason is left
out unless content capture is on, since the LLM classifier's reason may quote the message.

An approval's span is where the approval row is written, so the row carries that span's context
and the click that decides it, hours later, links back to it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from agents import tracing
from agents.results import ApprovalRequest
from router.approvals import Approvers
from router.decider import Decider
from router.decision import RouteDecision
from router.turn import PendingApproval, Turn

S = TypeVar("S")


async def decide(decider: Decider, text: str, current_agent: str | None) -> RouteDecision:
    """`decider.decide` inside a span that records the decision."""
    with tracing.span("route") as span:
        decision = await decider.decide(text, current_agent)
        span.set_attributes(
            tracing.clean(
                {
                    "switchboard.route": decision.primary.route,
                    "switchboard.routes": [c.route for c in decision.routes],
                    "switchboard.route.confidence": decision.confidence,
                    "switchboard.route.source": decision.source,
                    "switchboard.route.clarify": decision.clarify,
                    "switchboard.route.reason": decision.reason
                    if tracing.capture_content()
                    else None,
                }
            )
        )
        return decision


StoreRequest = Callable[
    [S, Turn, ApprovalRequest, Approvers, str | None], Awaitable[PendingApproval]
]


def approval_requested(store: StoreRequest[S]) -> StoreRequest[S]:
    """Wrap the supervisor's step that writes an approval: its span, named by the approval."""

    @functools.wraps(store)
    async def traced(
        self: S, turn: Turn, request: ApprovalRequest, rule: Approvers, key: str | None
    ) -> PendingApproval:
        attributes: dict[str, Any] = {
            "gen_ai.agent.name": request.agent,
            "switchboard.tools": [c.tool for c in request.calls],
            "switchboard.approvals_required": rule.required,
        }
        with tracing.span("approval.request", attributes) as span:
            pending = await store(self, turn, request, rule, key)
            span.set_attribute("switchboard.approval.id", pending.id)
            return pending

    return traced
