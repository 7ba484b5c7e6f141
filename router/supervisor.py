"""The supervisor: one turn from the user's words to one merged reply, with memory.

It loads the thread's window, decides the route, runs one specialist (or two in parallel for a
message with two intents, or the runner-up too when the decision is close or the specialist is
unsure), follows hand-offs within a hop limit, and stores everything with the decision. A turn
that runs past its deadline gets a holding reply and a ticket instead of silence.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from agents.agent import Agent
from agents.budget import turn_budget
from agents.llm import Usage
from agents.results import AgentResult, ApprovalRequest, ToolOutcome, TurnInput
from agents.runner import Runner
from agents.tool import ToolContext
from router.approvals import ApprovalRules
from router.decider import Decider
from router.decision import RouteChoice, RouteDecision
from router.turn import PendingApproval, Reply, ReplyPart, Turn
from storage.approvals import NewApproval
from storage.columns import utcnow
from storage.memory import RouteRecord, Window, new_message
from storage.memory import Usage as StoredUsage
from storage.store import Store
from storage.tables import Approval, Message

log = structlog.stdlib.get_logger(__name__)

DEGRADED_NOTE = "_The configured model is unavailable, so the offline model answered._"
HOLDING = (
    "This is taking longer than it should, so I've escalated it to a person (ticket #{ticket}). "
    "You'll hear back in this thread."
)


@dataclass(frozen=True)
class SupervisorSettings:
    max_hops: int = 3
    turn_deadline: timedelta = timedelta(seconds=60)
    window_tokens: int = 3000


@dataclass(frozen=True)
class _Ran:
    result: AgentResult
    note: str = ""
    second_opinion: bool = False


class Supervisor:
    def __init__(
        self,
        store: Store,
        agents: dict[str, Agent],
        runner: Runner,
        decider: Decider,
        approvals: ApprovalRules,
        settings: SupervisorSettings | None = None,
    ) -> None:
        self.store = store
        self.agents = agents
        self.runner = runner
        self.decider = decider
        self.approval_rules = approvals
        self.settings = settings or SupervisorSettings()

    async def handle(self, turn: Turn) -> Reply:
        # One budget for every model call of the turn (route, specialists, hand-offs), so a
        # failing provider costs the turn its failure budget once, not once per call.
        with turn_budget(self.settings.turn_deadline.total_seconds()):
            return await self._handle(turn)

    async def _handle(self, turn: Turn) -> Reply:
        thread, new = await self.store.memory.open_thread(
            turn.team_id, turn.channel, turn.thread_ts
        )
        assert thread.id is not None
        if new:
            window = Window(thread.id, "", [], 0)
        else:
            window = await self.store.memory.window(thread.id, self.settings.window_tokens)
        decision = await self.decider.decide(turn.text, thread.agent)
        question = new_message(
            thread.id,
            role="user",
            text=turn.text,
            user_id=turn.user_id,
            route=_record(decision),
            slack_ts=turn.ts,
        )
        log.info("turn.routed", event_id=turn.event_id, **decision.as_json())
        try:
            async with asyncio.timeout(self.settings.turn_deadline.total_seconds()):
                ran = await self._run(decision, _input(turn), _history(window))
        except TimeoutError:
            return await self._holding(turn, thread.id, decision, question)
        except BaseException:
            await self.store.memory.append_many(thread.id, [question])  # keep what they wrote
            raise
        return await self._finish(turn, thread.id, decision, ran, question)

    async def resume(self, approval_id: str, outcome: ToolOutcome) -> Reply:
        """Let the agent that asked for an approval continue with how it ended."""
        with turn_budget(self.settings.turn_deadline.total_seconds()):
            return await self._resume(approval_id, outcome)

    async def _resume(self, approval_id: str, outcome: ToolOutcome) -> Reply:
        approval = await self.store.approvals.get(approval_id)
        if approval is None:
            raise KeyError(approval_id)
        thread = await self.store.memory.thread(
            approval.team_id, approval.channel, approval.thread_ts
        )
        assert thread.id is not None
        window = await self.store.memory.window(thread.id, self.settings.window_tokens)
        history, text = _split_last_user(window)
        turn = Turn(
            approval.team_id,
            approval.channel,
            approval.thread_ts,
            approval.requester,
            text,
            "",
            approval.id,
        )
        request = _request_of(approval)
        result = await self.runner.resume(
            self.agents[approval.agent], _input(turn), history, request, outcome
        )
        decision = RouteDecision(
            (RouteChoice(approval.agent, 1.0),), "continuity", f"resumed after {approval.id}"
        )
        return await self._finish(turn, thread.id, decision, [_Ran(result)], None)

    async def carry_out(self, approval_id: str) -> ToolOutcome:
        """Run an approval already claimed (status approved), exactly once, keyed by its id."""
        approval = await self.store.approvals.get(approval_id)
        if approval is None or approval.status != "approved":
            return ToolOutcome("failed", detail=f"{approval_id} is not approved")
        agent = self.agents[approval.agent]
        request = _request_of(approval)
        context = ToolContext(
            approval.team_id,
            approval.channel,
            approval.thread_ts,
            approval.requester,
            approval.id,
            agent.name,
        )
        outcome = await self.runner.execute(agent, request, context)
        if outcome.status == "executed":
            await self.store.approvals.mark_executed(approval.id, outcome.output)
        else:
            await self.store.approvals.mark_failed(approval.id, outcome.detail)
        return outcome

    async def _run(
        self, decision: RouteDecision, turn: TurnInput, history: list[dict[str, Any]]
    ) -> list[_Ran]:
        ran = list(
            await asyncio.gather(*(self._follow(c.route, turn, history) for c in decision.routes))
        )
        primary = ran[0].result
        runner_up = decision.runner_up
        single = len(decision.routes) == 1
        if (
            single
            and runner_up is not None
            and runner_up.route != primary.agent
            and (decision.second_opinion or not primary.confident)
        ):
            second = await self.runner.run(self.agents[runner_up.route], turn, history)
            ran.append(_Ran(second, second_opinion=True))
        return ran

    async def _follow(self, route: str, turn: TurnInput, history: list[dict[str, Any]]) -> _Ran:
        """Run a specialist and the hand-offs it asks for, stopping loops and long chains."""
        chain = [route]
        result = await self.runner.run(
            self.agents[route], turn, history, handoff_targets=self._others(route)
        )
        note = ""
        while result.handoff is not None and not note:
            target = result.handoff.to
            if target in chain or len(chain) > self.settings.max_hops:
                why = "loop" if target in chain else f"more than {self.settings.max_hops} hand-offs"
                note = f"Escalated: hand-off {why} ({' → '.join([*chain, target])})."
                target = "escalation"
            chain.append(target)
            handed = [
                *history,
                {
                    "role": "system",
                    "content": f"Handed over: {result.handoff.reason} {note}".strip(),
                },
            ]
            targets = [] if note else self._others(target)
            result = await self.runner.run(
                self.agents[target], turn, handed, handoff_targets=targets
            )
        return _Ran(result, note=note)

    def _others(self, route: str) -> list[str]:
        return [name for name in self.agents if name != route]

    async def _finish(
        self,
        turn: Turn,
        thread_id: int,
        decision: RouteDecision,
        ran: list[_Ran],
        question: Message | None,
    ) -> Reply:
        approvals = [await self._request(turn, r) for item in ran for r in item.result.approvals]
        parts = [ReplyPart(i.result.agent, i.result.text, i.second_opinion, i.note) for i in ran]
        degraded = any(i.result.degraded for i in ran)
        text = _merge(parts, approvals, degraded)
        usage = sum((i.result.usage for i in ran), Usage())
        calls = [{"agent": i.result.agent, **c.as_dict()} for i in ran for c in i.result.tool_calls]
        answer = new_message(
            thread_id,
            role="assistant",
            agent=ran[0].result.agent,
            text=text,
            route=_record(decision),
            tool_calls=calls or None,
            usage=StoredUsage(usage.prompt_tokens, usage.completion_tokens, usage.cost_usd),
        )
        rows = [question, answer] if question is not None else [answer]
        message = (await self.store.memory.append_many(thread_id, rows))[-1]
        return Reply(
            text,
            ran[0].result.agent,
            parts,
            decision,
            approvals,
            degraded,
            False,
            usage,
            message.id,
        )

    async def _request(self, turn: Turn, request: ApprovalRequest) -> PendingApproval:
        rule = self.approval_rules.for_call(request.agent, request.tool)
        approval = await self.store.approvals.create(
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
                expires_at=utcnow() + self.approval_rules.expires_after,
                team_id=turn.team_id,
            )
        )
        await self.store.audit.append(
            actor=request.agent,
            action="approval.requested",
            subject=f"approval:{approval.id}",
            details={
                "tool": request.tool,
                "arguments": request.arguments,
                "requester": turn.user_id,
                "thread": f"{turn.channel}:{turn.thread_ts}",
                "event_id": turn.event_id,
            },
        )
        return PendingApproval(
            approval.id, request.agent, request.tool, request.summary, request.rationale
        )

    def _tool_requires(self, request: ApprovalRequest) -> int:
        """A tool may ask for more approvers for some arguments (a refund above a second limit)."""
        tool = self.agents[request.agent].tool(request.tool)
        count = tool.metadata.get("required_approvals") if tool else None
        return int(count(tool.parse(request.arguments))) if tool and callable(count) else 1

    async def _holding(
        self, turn: Turn, thread_id: int, decision: RouteDecision, question: Message
    ) -> Reply:
        ticket = await self.store.tickets.open(
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            title=turn.text[:200],
            category="escalation",
            priority="high",
            requester=turn.user_id,
        )
        await self.store.audit.append(
            actor="supervisor",
            action="turn.deadline_exceeded",
            subject=f"thread:{turn.channel}:{turn.thread_ts}",
            details={
                "event_id": turn.event_id,
                "ticket": ticket.id,
                "route": decision.primary.route,
            },
        )
        log.warning("turn.deadline_exceeded", event_id=turn.event_id, ticket=ticket.id)
        text = HOLDING.format(ticket=ticket.id)
        answer = new_message(
            thread_id, role="assistant", agent="escalation", text=text, route=_record(decision)
        )
        message = (await self.store.memory.append_many(thread_id, [question, answer]))[-1]
        part = ReplyPart("escalation", text)
        return Reply(text, "escalation", [part], decision, holding=True, message_id=message.id)


def _merge(parts: list[ReplyPart], approvals: list[PendingApproval], degraded: bool) -> str:
    if len(parts) == 1:
        lines = [parts[0].text]
    else:
        lines = [
            f"*{p.agent.title()}{' (second opinion)' if p.second_opinion else ''}:* {p.text}"
            for p in parts
        ]
    lines += [p.note for p in parts if p.note]
    told = "\n".join(lines)
    lines += [f"Waiting for approval: {a.summary}." for a in approvals if a.summary not in told]
    if degraded:
        lines.append(DEGRADED_NOTE)
    return "\n\n".join(line for line in lines if line)


def _request_of(approval: Approval) -> ApprovalRequest:
    """The stored approval as the agent asked for it; the approval id stands for the call id."""
    return ApprovalRequest(
        approval.agent,
        approval.tool,
        approval.arguments,
        approval.summary,
        approval.rationale,
        approval.id,
    )


def _record(decision: RouteDecision) -> RouteRecord:
    return RouteRecord(
        routes=decision.as_json()["routes"],
        confidence=decision.confidence,
        source=decision.source,
        reason=decision.reason,
    )


def _input(turn: Turn) -> TurnInput:
    return TurnInput(
        turn.team_id, turn.channel, turn.thread_ts, turn.user_id, turn.text, turn.event_id
    )


def _history(window: Window) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = []
    if window.summary:
        history.append(
            {"role": "system", "content": f"Summary of the thread so far: {window.summary}"}
        )
    history += [
        {"role": m.role, "content": m.text}
        for m in window.messages
        if m.role in ("user", "assistant")
    ]
    return history


def _split_last_user(window: Window) -> tuple[list[dict[str, Any]], str]:
    history = _history(window)
    for index in range(len(history) - 1, -1, -1):
        if history[index]["role"] == "user":
            return history[:index], str(history[index]["content"])
    return history, ""
