"""After an approval is decided: carry the approved calls out once, then let the agent go on.

`carry_out` runs an approval already claimed, keyed by its id, so a click after a crash cannot
run it twice. `resume` hands the agent that asked how its calls ended, with the thread's
history up to the question that asked, and the supervisor finishes that turn like any other.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agents.budget import turn_budget
from agents.results import ToolOutcome, Turn
from agents.tool import ToolContext
from router.approval_requests import request_of
from router.decision import RouteChoice, RouteDecision
from router.errors import UnknownRecord
from router.history import split_last_user
from router.records import key_of
from router.replies import Ran
from router.turn import Reply
from storage.tables import Approval

if TYPE_CHECKING:
    from router.supervisor import Supervisor


async def resume(supervisor: Supervisor, approval_id: str, outcome: ToolOutcome) -> Reply:
    """The agent that asked for `approval_id` continues, told how its calls ended."""
    approval = await supervisor.store.approvals.get(approval_id)
    if approval is None:
        raise UnknownRecord(approval_id)
    turn = Turn(
        team_id=approval.team_id,
        channel=approval.channel,
        thread_ts=approval.thread_ts,
        user_id=approval.requester,
        text="",
        ts="",
        event_id=approval.id,
    )
    async with supervisor.spending(turn) as spent:
        with turn_budget(supervisor.settings.turn_deadline.total_seconds()):
            reply = await _go_on(supervisor, approval, turn, outcome)
    return spent.on(reply)


async def _go_on(
    supervisor: Supervisor, approval: Approval, turn: Turn, outcome: ToolOutcome
) -> Reply:
    opened = await supervisor.store.turns.open(key_of(turn), supervisor.settings.window_tokens)
    history, text = split_last_user(opened.window)
    turn = replace(turn, text=text)
    request = request_of(approval)
    result = await supervisor.runner.resume(
        supervisor.agents[approval.agent], turn, history, request, outcome
    )
    decision = RouteDecision(
        routes=(RouteChoice(approval.agent, 1.0),),
        source="continuity",
        reason=f"resumed after {approval.id}",
    )
    done = {
        supervisor.effect(approval.agent, call.tool)
        for call, each in zip(request.calls, outcome.each(len(request.calls)), strict=True)
        if each.status == "executed"
    }
    return await supervisor.finish(turn, opened.thread_id, decision, [Ran(result)], None, done)


async def carry_out(supervisor: Supervisor, approval_id: str) -> ToolOutcome:
    """Run an approval already claimed (status approved), exactly once, keyed by its id."""
    approvals = supervisor.store.approvals
    approval = await approvals.get(approval_id)
    if approval is None or approval.status != "approved":
        return ToolOutcome(status="failed", detail=f"{approval_id} is not approved")
    if approval.decided_at is not None and approval.decided_at > approval.expires_at:
        # The claim's compare-and-set forbids this; refuse anyway rather than act late.
        detail = "approved after it had expired; not run"
        await approvals.mark_failed(approval.id, detail)
        return ToolOutcome(status="failed", detail=detail)
    agent = supervisor.agents[approval.agent]
    request = request_of(approval)
    context = ToolContext(
        team_id=approval.team_id,
        channel=approval.channel,
        thread_ts=approval.thread_ts,
        user_id=approval.requester,
        idempotency_key=approval.id,
        agent=agent.name,
    )
    outcome = await supervisor.runner.execute(agent, request, context)
    if outcome.status == "executed":
        await approvals.mark_executed(approval.id, outcome.output)
    else:
        await approvals.mark_failed(approval.id, outcome.detail, outcome.output or None)
    return outcome
