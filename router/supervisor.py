"""The supervisor: one turn from the user's words to one merged reply, with memory.

It reads the thread's window, decides the route, runs one specialist (or two in parallel for a
message with two intents, or the runner-up too when the decision is close or the specialist is
unsure) and follows hand-offs within a hop limit. The thread is read once when the turn starts
and the turn written once when it ends, as one transaction (`storage.turns`): a turn that dies
half way leaves nothing, and its inbox row runs it again. A turn that runs past its deadline gets a
holding reply and a ticket instead of silence.

Given a `ReplySink`, a turn with one specialist streams: its text goes out sentence by sentence
through a `VettedStream` as the model writes it, and what was shown becomes the first part of the
reply; what only the end of the turn knows (notes, pending approvals, a second opinion) follows.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import structlog

from agents import doing
from agents.agent import Agent
from agents.budget import turn_budget
from agents.claims import REMOVED_NOTE, keep_backed
from agents.llm import Usage
from agents.reply_stream import ReplySink, VettedStream
from agents.results import ToolOutcome, Turn
from agents.runner import Runner
from agents.spend_budget import SpendBudgets
from router import correction, resumption
from router.approval_requests import ApprovalRequests
from router.approvals import ApprovalRules
from router.clarify import question as clarifying_question
from router.decider import Decider
from router.decision import RouteDecision
from router.history import after_question, history_of
from router.logs import condense
from router.records import key_of, route_record, turn_record
from router.replies import DEGRADED_NOTE, Ran, annotated, gate, merge
from router.spending import CallsObserver, TurnSpending, spending, turn_usage
from router.tracing import decide as traced_decide
from router.turn import PendingApproval, Reply, ReplyPart
from storage.memory import StoredUsage, new_message
from storage.store import Store
from storage.tables import AuditEntry, Message

__all__ = ["DEGRADED_NOTE", "HOLDING", "Supervisor", "SupervisorSettings"]

log = structlog.stdlib.get_logger(__name__)

HOLDING = (
    "This is taking longer than it should, so I've escalated it to a person (ticket #{ticket}). "
    "You'll hear back in this thread."
)


@dataclass(frozen=True, kw_only=True)
class SupervisorSettings:
    max_hops: int = 3
    turn_deadline: timedelta = timedelta(seconds=60)
    window_tokens: int = 3000
    budgets: SpendBudgets = field(default_factory=SpendBudgets)  # money (agents.spend_budget)


class Supervisor:
    def __init__(
        self,
        store: Store,
        agents: dict[str, Agent],
        runner: Runner,
        decider: Decider,
        approvals: ApprovalRules,
        settings: SupervisorSettings | None = None,
        *,
        on_model_calls: CallsObserver | None = None,  # each turn's calls, e.g. for /metrics
    ) -> None:
        self.store = store
        self.on_model_calls = on_model_calls
        self.agents = agents
        self.runner = runner
        self.decider = decider
        self.approval_rules = approvals
        self.requests = ApprovalRequests(store, agents, approvals)
        self.settings = settings or SupervisorSettings()

    async def handle(self, turn: Turn, sink: ReplySink | None = None) -> Reply:
        # Money first: a spent budget keeps the whole turn on the offline model. Then one time
        # budget for every model call of the turn (route, specialists, hand-offs), so a
        # failing provider costs the turn its failure budget once, not once per call.
        async with self.spending(turn) as spent:
            with turn_budget(self.settings.turn_deadline.total_seconds()):
                reply = await self._handle(turn, sink)
        return spent.on(reply)

    async def resume(self, approval_id: str, outcome: ToolOutcome) -> Reply:
        """Let the agent that asked for an approval continue with how it ended."""
        return await resumption.resume(self, approval_id, outcome)

    async def correct(self, message_id: int, route: str, corrected_by: str) -> Reply | None:
        """A person says reply `message_id` should have come from `route`: record it, re-run.

        None means it was corrected already (see `router.correction`).
        """
        return await correction.correct(self, message_id, route, corrected_by)

    async def carry_out(self, approval_id: str) -> ToolOutcome:
        """Run an approval already claimed (status approved), exactly once, keyed by its id."""
        return await resumption.carry_out(self, approval_id)

    def spending(self, turn: Turn) -> AbstractAsyncContextManager[TurnSpending]:
        """The turn's money: its budget checked first, its model calls stored at the end."""
        return spending(
            self.store,
            self.settings.budgets,
            turn=turn.event_id,
            team_id=turn.team_id,
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            observe=self.on_model_calls,
        )

    async def _handle(self, turn: Turn, sink: ReplySink | None = None) -> Reply:
        """Read the thread once, decide, run, and write the whole turn once at its end.

        Nothing is written before the end: a turn that fails or dies leaves no trace in memory,
        and its inbox row runs it again.
        """
        opened = await self.store.turns.open(key_of(turn), self.settings.window_tokens)
        asked, text = after_question(opened.window, turn.text)
        decision = await traced_decide(self.decider, text, None if asked else opened.agent)
        question = new_message(
            opened.thread_id,
            role="user",
            text=turn.text,
            user_id=turn.user_id,
            route=route_record(decision),
            slack_ts=turn.ts,
        )
        log.info("turn.routed", event_id=turn.event_id, **decision.as_json())
        if decision.clarify:
            return await self._ask(turn, opened.thread_id, decision, question)
        said = replace(turn, text=condense(text).text)  # a pasted log, boiled down
        stream = gate(sink, decision)
        if sink is not None:
            await sink.status(doing.for_route(decision.primary.route, said.text))
        try:
            async with asyncio.timeout(self.settings.turn_deadline.total_seconds()):
                ran = await self._run(decision, said, history_of(opened.window), stream)
        except TimeoutError:
            return await self._holding(turn, opened.thread_id, decision, question)
        ran = annotated(ran, decision, streamed=stream is not None and stream.started)
        return await self.finish(turn, opened.thread_id, decision, ran, question, stream=stream)

    async def _ask(
        self, turn: Turn, thread_id: int, decision: RouteDecision, question: Message
    ) -> Reply:
        """Unsure and no LLM to ask: one clarifying question instead of a guess."""
        ranked = sorted(decision.as_json()["routes"], key=lambda c: -c["confidence"])
        likely = [c["route"] for c in ranked]
        if decision.runner_up is not None:
            likely.append(decision.runner_up.route)
        text = clarifying_question(list(dict.fromkeys(likely)))
        answer = new_message(
            thread_id, role="assistant", agent="triage", text=text, route=route_record(decision)
        )
        message_id = await self.store.turns.record(turn_record(turn, question, answer))
        part = ReplyPart(agent="triage", text=text)
        return Reply(
            text=text, agent="triage", parts=[part], decision=decision, message_id=message_id
        )

    async def _run(
        self,
        decision: RouteDecision,
        turn: Turn,
        history: list[dict[str, Any]],
        stream: VettedStream | None = None,
    ) -> list[Ran]:
        ran = list(
            await asyncio.gather(
                *(self.follow(c.route, turn, history, stream) for c in decision.routes)
            )
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
            ran.append(Ran(second, second_opinion=True))
        return ran

    async def follow(
        self,
        route: str,
        turn: Turn,
        history: list[dict[str, Any]],
        stream: VettedStream | None = None,
    ) -> Ran:
        """Run a specialist and the hand-offs it asks for, stopping loops and long chains."""
        chain = [route]
        result = await self.runner.run(
            self.agents[route], turn, history, handoff_targets=self._others(route), stream=stream
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
                self.agents[target], turn, handed, handoff_targets=targets, stream=stream
            )
        return Ran(result, note=note)

    def _others(self, route: str) -> list[str]:
        return [name for name in self.agents if name != route]

    async def finish(
        self,
        turn: Turn,
        thread_id: int,
        decision: RouteDecision,
        ran: list[Ran],
        question: Message | None,
        done: set[str | None] | None = None,
        *,
        stream: VettedStream | None = None,
    ) -> Reply:
        """The merged reply, and the turn written as one unit (approvals were stored first)."""
        approvals = [
            pending
            for item in ran
            for request in item.result.approvals
            for pending in await self.requests.request(turn, request)
        ]
        parts = [self._part(item, approvals, done or set()) for item in ran]
        streamed = stream.shown.strip() if stream is not None and stream.started else ""
        if streamed:  # what people saw is the reply: it was vetted sentence by sentence
            removed = REMOVED_NOTE if stream is not None and stream.removed else ""
            parts[0] = replace(parts[0], text=f"{streamed}\n\n{removed}".strip())
        degraded = any(i.result.degraded for i in ran)
        text = merge(parts, approvals, degraded, streamed=bool(streamed))
        usage = turn_usage(sum((i.result.usage for i in ran), Usage()))  # the router's too
        calls = [{"agent": i.result.agent, **c.as_dict()} for i in ran for c in i.result.tool_calls]
        answer = new_message(
            thread_id,
            role="assistant",
            agent=ran[0].result.agent,
            text=text,
            route=route_record(decision),
            tool_calls=calls or None,
            usage=StoredUsage(usage.prompt_tokens, usage.completion_tokens, usage.cost_usd),
        )
        message_id = await self.store.turns.record(turn_record(turn, question, answer))
        return Reply(
            text=text,
            agent=ran[0].result.agent,
            parts=parts,
            decision=decision,
            approvals=approvals,
            degraded=degraded,
            holding=False,
            usage=usage,
            message_id=message_id,
            streamed=streamed,
        )

    def effect(self, agent: str, tool_name: str) -> str | None:
        """The kind of change a tool makes in the world (money, page, ...), if any."""
        tool = self.agents[agent].tool(tool_name) if agent in self.agents else None
        return tool.effect if tool else None

    def _part(
        self, item: Ran, approvals: list[PendingApproval], done: set[str | None]
    ) -> ReplyPart:
        """The agent's text, less what it claims happened without a tool having done it."""
        result = item.result
        done = done | {
            self.effect(result.agent, c.name) for c in result.tool_calls if c.status == "ok"
        }
        text, removed = keep_backed(result.text, {d for d in done if d}, bool(approvals))
        if removed:
            log.warning("reply.unbacked_claim_removed", agent=result.agent)
            text = f"{text}\n\n{REMOVED_NOTE}".strip()
        return ReplyPart(
            agent=result.agent, text=text, second_opinion=item.second_opinion, note=item.note
        )

    async def _holding(
        self, turn: Turn, thread_id: int, decision: RouteDecision, question: Message
    ) -> Reply:
        """Past the deadline: a ticket for a person (its number is in the reply), then the turn."""
        ticket = await self.store.tickets.open(
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            title=turn.text[:200],
            category="escalation",
            priority="high",
            requester=turn.user_id,
        )
        audit = AuditEntry(
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
            thread_id, role="assistant", agent="escalation", text=text, route=route_record(decision)
        )
        message_id = await self.store.turns.record(turn_record(turn, question, answer, [audit]))
        part = ReplyPart(agent="escalation", text=text)
        return Reply(
            text=text,
            agent="escalation",
            parts=[part],
            decision=decision,
            holding=True,
            message_id=message_id,
        )
