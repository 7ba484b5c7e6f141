"""The supervisor: one turn from the user's words to one merged reply, with memory.

It loads the thread's window, decides the route, runs one specialist (or two in parallel for a
message with two intents, or the runner-up too when the decision is close or the specialist is
unsure), follows hand-offs within a hop limit, and stores everything with the decision. A turn
that runs past its deadline gets a holding reply and a ticket instead of silence.

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
from agents.results import (
    AgentResult,
    ApprovalRequest,
    RequestedCall,
    ToolOutcome,
    Turn,
    money_total,
)
from agents.runner import Runner
from agents.spend_budget import SpendBudgets
from agents.spend_budget import notice as budget_notice
from agents.tool import ToolContext
from router.approvals import ApprovalRules, Approvers
from router.clarify import question as clarifying_question
from router.decider import Decider
from router.decision import RouteChoice, RouteDecision
from router.errors import UnknownRecord
from router.history import after_question, before
from router.language import language
from router.logs import condense
from router.notes import note, preface
from router.spending import CallsObserver, TurnSpending, spending, turn_usage
from router.tracing import approval_requested
from router.tracing import decide as traced_decide
from router.turn import PendingApproval, Reply, ReplyPart
from storage.approvals import NewApproval
from storage.columns import utcnow
from storage.corrections import NewCorrection
from storage.memory import RouteRecord, StoredUsage, Window, new_message
from storage.store import Store
from storage.tables import Approval, Message

log = structlog.stdlib.get_logger(__name__)

DEGRADED_NOTE = "_The configured model is unavailable, so the offline model answered._"
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
        *,
        on_model_calls: CallsObserver | None = None,  # each turn's calls, e.g. for /metrics
    ) -> None:
        self.store = store
        self.on_model_calls = on_model_calls
        self.agents = agents
        self.runner = runner
        self.decider = decider
        self.approval_rules = approvals
        self.settings = settings or SupervisorSettings()

    async def handle(self, turn: Turn, sink: ReplySink | None = None) -> Reply:
        # Money first: a spent budget keeps the whole turn on the offline model. Then one time
        # budget for every model call of the turn (route, specialists, hand-offs), so a
        # failing provider costs the turn its failure budget once, not once per call.
        async with self._spending(turn) as spent:
            with turn_budget(self.settings.turn_deadline.total_seconds()):
                reply = await self._handle(turn, sink)
        return spent.on(reply)

    def _spending(self, turn: Turn) -> AbstractAsyncContextManager[TurnSpending]:
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
        thread, new = await self.store.memory.open_thread(
            turn.team_id, turn.channel, turn.thread_ts
        )
        assert thread.id is not None
        if new:
            window = Window(thread_id=thread.id, summary="", messages=[], tokens=0)
        else:
            window = await self.store.memory.window(thread.id, self.settings.window_tokens)
        asked, text = after_question(window, turn.text)
        decision = await traced_decide(self.decider, text, None if asked else thread.agent)
        question = new_message(
            thread.id,
            role="user",
            text=turn.text,
            user_id=turn.user_id,
            route=_record(decision),
            slack_ts=turn.ts,
        )
        log.info("turn.routed", event_id=turn.event_id, **decision.as_json())
        if decision.clarify:
            return await self._ask(thread.id, decision, question)
        said = replace(turn, text=condense(text).text)  # a pasted log, boiled down
        gate = _gate(sink, decision)
        if sink is not None:
            await sink.status(doing.for_route(decision.primary.route, said.text))
        try:
            async with asyncio.timeout(self.settings.turn_deadline.total_seconds()):
                ran = await self._run(decision, said, _history(window), gate)
        except TimeoutError:
            return await self._holding(turn, thread.id, decision, question)
        except BaseException:
            await self.store.memory.append_many(thread.id, [question])  # keep what they wrote
            raise
        annotated = _annotated(ran, decision, streamed=gate is not None and gate.started)
        return await self._finish(turn, thread.id, decision, annotated, question, gate=gate)

    async def _ask(self, thread_id: int, decision: RouteDecision, question: Message) -> Reply:
        """Unsure and no LLM to ask: one clarifying question instead of a guess."""
        ranked = sorted(decision.as_json()["routes"], key=lambda c: -c["confidence"])
        likely = [c["route"] for c in ranked]
        if decision.runner_up is not None:
            likely.append(decision.runner_up.route)
        text = clarifying_question(list(dict.fromkeys(likely)))
        answer = new_message(
            thread_id, role="assistant", agent="triage", text=text, route=_record(decision)
        )
        message = (await self.store.memory.append_many(thread_id, [question, answer]))[-1]
        part = ReplyPart(agent="triage", text=text)
        return Reply(
            text=text, agent="triage", parts=[part], decision=decision, message_id=message.id
        )

    async def resume(self, approval_id: str, outcome: ToolOutcome) -> Reply:
        """Let the agent that asked for an approval continue with how it ended."""
        asked = await self.store.approvals.get(approval_id)
        if asked is None:
            raise UnknownRecord(approval_id)
        turn = Turn(
            team_id=asked.team_id,
            channel=asked.channel,
            thread_ts=asked.thread_ts,
            user_id="",
            text="",
            ts="",
            event_id=asked.id,
        )
        async with self._spending(turn) as spent:
            with turn_budget(self.settings.turn_deadline.total_seconds()):
                reply = await self._resume(approval_id, outcome)
        return spent.on(reply)

    async def _resume(self, approval_id: str, outcome: ToolOutcome) -> Reply:
        approval = await self.store.approvals.get(approval_id)
        if approval is None:
            raise UnknownRecord(approval_id)
        thread = await self.store.memory.thread(
            approval.team_id, approval.channel, approval.thread_ts
        )
        assert thread.id is not None
        window = await self.store.memory.window(thread.id, self.settings.window_tokens)
        history, text = _split_last_user(window)
        turn = Turn(
            team_id=approval.team_id,
            channel=approval.channel,
            thread_ts=approval.thread_ts,
            user_id=approval.requester,
            text=text,
            ts="",
            event_id=approval.id,
        )
        request = _request_of(approval)
        result = await self.runner.resume(
            self.agents[approval.agent], turn, history, request, outcome
        )
        decision = RouteDecision(
            routes=(RouteChoice(approval.agent, 1.0),),
            source="continuity",
            reason=f"resumed after {approval.id}",
        )
        done = {
            self._effect(approval.agent, call.tool)
            for call, each in zip(request.calls, outcome.each(len(request.calls)), strict=True)
            if each.status == "executed"
        }
        return await self._finish(turn, thread.id, decision, [_Ran(result)], None, done)

    async def correct(self, message_id: int, route: str, corrected_by: str) -> Reply | None:
        """A person says reply `message_id` should have come from `route`: record it, re-run.

        The correction is recorded first and only once (a unique key per reply), so a double
        click re-runs the turn once; None means it was corrected already. The chosen specialist
        answers the same question with the same history, in the same thread, and the thread
        continues with it.
        """
        answer = await self.store.memory.message(message_id)
        if answer is None or answer.role != "assistant" or route not in self.agents:
            raise UnknownRecord(f"no reply {message_id} to correct to {route}")
        thread = await self.store.memory.get_thread(answer.thread_id)
        assert thread is not None and thread.id is not None
        history, asked = before(await self.store.memory.messages(thread.id), message_id)
        if asked is None:
            raise UnknownRecord(f"reply {message_id} answers no question")
        recorded = await self.store.corrections.record(
            NewCorrection(
                message_id=message_id,
                team_id=thread.team_id,
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=asked.text,
                from_route=answer.agent or "",
                to_route=route,
                corrected_by=corrected_by,
            )
        )
        if recorded is None:
            return None
        await self.store.audit.append(
            actor=corrected_by,
            action="route.corrected",
            subject=f"thread:{thread.channel}:{thread.thread_ts}",
            details={"message": message_id, "from": answer.agent, "to": route},
        )
        turn = Turn(
            team_id=thread.team_id,
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            user_id=asked.user_id or "",
            text=asked.text,
            ts="",
            event_id=f"correction-{recorded.id}",
        )
        decision = RouteDecision(
            routes=(RouteChoice(route, 1.0),),
            source="correction",
            reason=f"corrected by {corrected_by} from {answer.agent}",
            language=language(asked.text),
        )
        said = replace(turn, text=condense(asked.text).text)
        async with self._spending(turn) as spent:
            ran = await self._follow(route, said, history)
            reply = await self._finish(turn, thread.id, decision, _annotated([ran], decision), None)
        return spent.on(reply)

    async def carry_out(self, approval_id: str) -> ToolOutcome:
        """Run an approval already claimed (status approved), exactly once, keyed by its id."""
        approval = await self.store.approvals.get(approval_id)
        if approval is None or approval.status != "approved":
            return ToolOutcome(status="failed", detail=f"{approval_id} is not approved")
        if approval.decided_at is not None and approval.decided_at > approval.expires_at:
            # The claim's compare-and-set forbids this; refuse anyway rather than act late.
            detail = "approved after it had expired; not run"
            await self.store.approvals.mark_failed(approval.id, detail)
            return ToolOutcome(status="failed", detail=detail)
        agent = self.agents[approval.agent]
        request = _request_of(approval)
        context = ToolContext(
            team_id=approval.team_id,
            channel=approval.channel,
            thread_ts=approval.thread_ts,
            user_id=approval.requester,
            idempotency_key=approval.id,
            agent=agent.name,
        )
        outcome = await self.runner.execute(agent, request, context)
        if outcome.status == "executed":
            await self.store.approvals.mark_executed(approval.id, outcome.output)
        else:
            await self.store.approvals.mark_failed(
                approval.id, outcome.detail, outcome.output or None
            )
        return outcome

    async def _run(
        self,
        decision: RouteDecision,
        turn: Turn,
        history: list[dict[str, Any]],
        gate: VettedStream | None = None,
    ) -> list[_Ran]:
        ran = list(
            await asyncio.gather(
                *(self._follow(c.route, turn, history, gate) for c in decision.routes)
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
            ran.append(_Ran(second, second_opinion=True))
        return ran

    async def _follow(
        self,
        route: str,
        turn: Turn,
        history: list[dict[str, Any]],
        gate: VettedStream | None = None,
    ) -> _Ran:
        """Run a specialist and the hand-offs it asks for, stopping loops and long chains."""
        chain = [route]
        result = await self.runner.run(
            self.agents[route], turn, history, handoff_targets=self._others(route), stream=gate
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
                self.agents[target], turn, handed, handoff_targets=targets, stream=gate
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
        done: set[str | None] | None = None,
        *,
        gate: VettedStream | None = None,
    ) -> Reply:
        approvals = [
            pending
            for item in ran
            for request in item.result.approvals
            for pending in await self._request(turn, request)
        ]
        parts = [self._part(item, approvals, done or set()) for item in ran]
        streamed = gate.shown.strip() if gate is not None and gate.started else ""
        if streamed:  # what people saw is the reply: it was vetted sentence by sentence
            removed = REMOVED_NOTE if gate is not None and gate.removed else ""
            parts[0] = replace(parts[0], text=f"{streamed}\n\n{removed}".strip())
        degraded = any(i.result.degraded for i in ran)
        text = _merge(parts, approvals, degraded, streamed=bool(streamed))
        usage = turn_usage(sum((i.result.usage for i in ran), Usage()))  # the router's too
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
            text=text,
            agent=ran[0].result.agent,
            parts=parts,
            decision=decision,
            approvals=approvals,
            degraded=degraded,
            holding=False,
            usage=usage,
            message_id=message.id,
            streamed=streamed,
        )

    def _effect(self, agent: str, tool_name: str) -> str | None:
        """The kind of change a tool makes in the world (money, page, ...), if any."""
        tool = self.agents[agent].tool(tool_name) if agent in self.agents else None
        return tool.effect if tool else None

    def _part(
        self, item: _Ran, approvals: list[PendingApproval], done: set[str | None]
    ) -> ReplyPart:
        """The agent's text, less what it claims happened without a tool having done it."""
        result = item.result
        done = done | {
            self._effect(result.agent, c.name) for c in result.tool_calls if c.status == "ok"
        }
        text, removed = keep_backed(result.text, {d for d in done if d}, bool(approvals))
        if removed:
            log.warning("reply.unbacked_claim_removed", agent=result.agent)
            text = f"{text}\n\n{REMOVED_NOTE}".strip()
        return ReplyPart(
            agent=result.agent, text=text, second_opinion=item.second_opinion, note=item.note
        )

    async def _request(self, turn: Turn, request: ApprovalRequest) -> list[PendingApproval]:
        """Store the request as approvals: one per approver rule among its calls (usually one).

        Each carries the turn's key for it, so a turn re-run after a crash finds the approval
        it asked for before instead of asking again.
        """
        groups: dict[Approvers, list[RequestedCall]] = {}
        for call in request.calls:
            groups.setdefault(self.approval_rules.for_call(request.agent, call.tool), []).append(
                call
            )
        pending = []
        for index, (rule, calls) in enumerate(groups.items()):
            part = ApprovalRequest(
                agent=request.agent,
                calls=tuple(calls),
                rationale=request.rationale,
                key=request.key,
            )
            key = request.key if index == 0 else f"{request.key}:{index}"
            pending.append(await self._store_request(turn, part, rule, key or None))
        return pending

    @approval_requested  # its span; the row carries it, so the click links back
    async def _store_request(
        self, turn: Turn, request: ApprovalRequest, rule: Approvers, key: str | None
    ) -> PendingApproval:
        approval, created = await self.store.approvals.request(
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
                calls=[c.as_dict() for c in request.calls],
                request_key=key,
            )
        )
        if created:
            await self.store.audit.append(
                actor=request.agent,
                action="approval.requested",
                subject=f"approval:{approval.id}",
                details={
                    "tools": [c.tool for c in request.calls],
                    "arguments": [c.arguments for c in request.calls],
                    "requester": turn.user_id,
                    "thread": f"{turn.channel}:{turn.thread_ts}",
                    "event_id": turn.event_id,
                },
            )
        return _pending(approval)

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
        part = ReplyPart(agent="escalation", text=text)
        return Reply(
            text=text,
            agent="escalation",
            parts=[part],
            decision=decision,
            holding=True,
            message_id=message.id,
        )


def _merge(
    parts: list[ReplyPart], approvals: list[PendingApproval], degraded: bool, *, streamed: bool
) -> str:
    """The reply's text. A streamed first part is kept as it was shown (no heading), so the
    rest can follow it in the same message."""
    if len(parts) == 1:
        lines = [parts[0].text]
    else:
        lines = [
            p.text
            if streamed and index == 0
            else f"*{p.agent.title()}{' (second opinion)' if p.second_opinion else ''}:* {p.text}"
            for index, p in enumerate(parts)
            if p.text
        ]
    lines += [p.note for p in parts if p.note]
    if approvals:
        lines.append(pending_text(approvals))
    if degraded:
        lines.append(budget_notice() or DEGRADED_NOTE)
    return "\n\n".join(line for line in lines if line)


def _gate(sink: ReplySink | None, decision: RouteDecision) -> VettedStream | None:
    """A stream for a turn one specialist answers (parallel specialists are merged at the end).

    The acknowledgement a frustrated person is owed opens the reply, streamed or not.
    """
    if sink is None or len(decision.routes) != 1:
        return None
    return VettedStream(sink, opening=preface(decision))


def _annotated(ran: list[_Ran], decision: RouteDecision, *, streamed: bool = False) -> list[_Ran]:
    """The acknowledgement a frustrated person is owed (already shown when the reply streamed),
    and the offline model's English note."""
    first = ran[0]
    sorry = "" if streamed else preface(decision)
    if sorry:
        first = replace(first, result=replace(first.result, text=f"{sorry}\n\n{first.result.text}"))
    offline = any(i.result.model.startswith("offline/") for i in ran)
    extra = note(decision, offline=offline)
    if extra:
        first = replace(first, note=f"{first.note}\n{extra}".strip())
    return [first, *ran[1:]]


def pending_text(approvals: list[PendingApproval]) -> str:
    """What is waiting for a human, from the approval rows: the only words the reply uses."""
    lines = ["⏳ *Waiting for approval.* Nothing of this has been done yet:"]
    for approval in approvals:
        if len(approval.calls) > 3:
            total = f", *{approval.total}* in total" if approval.total else ""
            lines.append(f"• {len(approval.calls)} actions{total}, each listed on the card")
        elif approval.calls:
            lines += [f"• {summary}" for summary in approval.calls]
            if approval.total:
                lines.append(f"  Total: *{approval.total}*, approved or rejected as one")
        else:
            lines.append(f"• {approval.summary}")
    lines.append("I'll say here what happens once someone decides.")
    return "\n".join(lines)


def _pending(approval: Approval) -> PendingApproval:
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


def _request_of(approval: Approval) -> ApprovalRequest:
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


def _record(decision: RouteDecision) -> RouteRecord:
    return RouteRecord(
        routes=decision.as_json()["routes"],
        confidence=decision.confidence,
        source=decision.source,
        reason=decision.reason,
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
