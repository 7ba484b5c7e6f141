"""The agent loop: ask the model, run the tools it asks for, until it answers.

The loop enforces in code what no prompt can: an agent calls only its own tools; arguments are
validated (a bad call goes back to the model once, then fails gracefully); a high-risk call
never runs here but becomes an `ApprovalRequest`; the number of steps is bounded. Two built-in
tools let the model hand the conversation to another specialist or flag that it is unsure.

Approval limits apply to totals, not calls. A call that moves money (`Tool.exposure`) runs
unapproved only if the turn's, the account's and the requester's totals stay within its limit,
reserved atomically through `SpendLimits` before it runs. Otherwise every risky call of that
model step goes into one approval request, and approving it approves exactly that list.

Given a `VettedStream`, the loop streams: the model's text goes through it as it arrives, and
the loop tells it which effects the tools carried out and when approval was asked for, so it
can judge each sentence against what has really happened by then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import structlog
from pydantic import BaseModel, Field, ValidationError

from agents import doing
from agents.agent import Agent
from agents.errors import ToolError
from agents.limits import MemoryLimits, SpendHold, SpendLimits, scopes, to_units
from agents.llm import LLM, Completion, ToolCall, Usage
from agents.reply_stream import VettedStream
from agents.results import (
    AgentResult,
    ApprovalRequest,
    Handoff,
    RequestedCall,
    ToolCallRecord,
    ToolOutcome,
    Turn,
)
from agents.run_spans import agent_run, run_tool
from agents.tool import Exposure, Risk, Tool, ToolContext, compact_schema

log = structlog.stdlib.get_logger(__name__)

HANDOFF, LOW_CONFIDENCE = "handoff", "flag_low_confidence"
# More risky calls than a person can check on one card are refused, not queued.
MAX_RISKY_PER_STEP = 25


class HandoffArgs(BaseModel):
    to: str = Field(description="The specialist to hand the conversation to.")
    reason: str = Field(description="Why, in one sentence, for the next specialist.")


class LowConfidenceArgs(BaseModel):
    reason: str = Field(description="What you are unsure about.")


@cache
def _builtin_schemas(targets: tuple[str, ...]) -> list[dict[str, Any]]:
    schemas = [
        {
            "type": "function",
            "function": {
                "name": LOW_CONFIDENCE,
                "description": "Say you are unsure of your answer, so a colleague is asked too.",
                "parameters": compact_schema(LowConfidenceArgs.model_json_schema()),
            },
        }
    ]
    if targets:
        parameters = compact_schema(HandoffArgs.model_json_schema())
        parameters["properties"]["to"]["enum"] = targets
        schemas.append(
            {
                "type": "function",
                "function": {
                    "name": HANDOFF,
                    "description": "Hand this conversation to a specialist better suited to it.",
                    "parameters": parameters,
                },
            }
        )
    return schemas


@dataclass(kw_only=True)
class _Run:
    """The state of one run of the loop."""

    agent: Agent
    turn: Turn
    messages: list[dict[str, Any]]
    targets: list[str]
    records: list[ToolCallRecord] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    handoff: Handoff | None = None
    confident: bool = True
    degraded: bool = False
    model: str = ""
    invalid_retries: set[str] = field(default_factory=set)
    step: int = 0
    pending_major: Decimal = Decimal(0)  # money in this turn's approval requests so far
    stream: VettedStream | None = None


@dataclass(kw_only=True)
class _Call:
    """A valid call to one of the agent's own tools, before anything ran."""

    call: ToolCall
    tool: Tool[Any]
    arguments: Any
    raw: dict[str, Any]
    key: str
    exposure: Exposure | None = None


class Runner:
    def __init__(
        self,
        llm: LLM,
        *,
        max_steps: int = 6,
        limits: SpendLimits | None = None,
        window: timedelta = timedelta(hours=24),
    ) -> None:
        self.llm = llm
        self.max_steps = max_steps
        self.limits: SpendLimits = limits if limits is not None else MemoryLimits()
        self.window = window

    async def run(
        self,
        agent: Agent,
        turn: Turn,
        history: list[dict[str, Any]],
        *,
        handoff_targets: list[str] | None = None,
        stream: VettedStream | None = None,
    ) -> AgentResult:
        """Answer `turn.text` given the thread's `history` (user and assistant messages)."""
        messages = [
            {"role": "system", "content": agent.instructions},
            *history,
            {"role": "user", "content": turn.text},
        ]
        run = _Run(
            agent=agent, turn=turn, messages=messages, targets=handoff_targets or [], stream=stream
        )
        return await self._loop(run)

    async def resume(
        self,
        agent: Agent,
        turn: Turn,
        history: list[dict[str, Any]],
        request: ApprovalRequest,
        outcome: ToolOutcome,
    ) -> AgentResult:
        """Continue after a human decided: the agent sees its calls and how each ended."""
        calls = [
            {
                "id": c.call_id,
                "type": "function",
                "function": {"name": c.tool, "arguments": json.dumps(c.arguments)},
            }
            for c in request.calls
        ]
        outcomes = outcome.each(len(request.calls))
        messages = [
            {"role": "system", "content": agent.instructions},
            *history,
            {"role": "user", "content": turn.text},
            {"role": "assistant", "content": request.rationale or None, "tool_calls": calls},
            *(
                _tool_message(c.call_id, o.as_tool_message())
                for c, o in zip(request.calls, outcomes, strict=True)
            ),
        ]
        return await self._loop(_Run(agent=agent, turn=turn, messages=messages, targets=[]))

    async def execute(
        self, agent: Agent, request: ApprovalRequest, context: ToolContext
    ) -> ToolOutcome:
        """Run every call of an approved request, in order, each under its own key.

        `context.idempotency_key` is the approval's id; call n > 0 runs under `<id>:<n>`, so a
        re-run after a crash finds each earlier effect instead of repeating it. The request is
        executed when every call was; otherwise failed, with each call's outcome kept.
        """
        outcomes: list[ToolOutcome] = []
        for index, call in enumerate(request.calls):
            key = context.idempotency_key if index == 0 else f"{context.idempotency_key}:{index}"
            keyed = ToolContext(
                team_id=context.team_id,
                channel=context.channel,
                thread_ts=context.thread_ts,
                user_id=context.user_id,
                idempotency_key=key,
                agent=context.agent,
            )
            outcomes.append(await self._execute_one(agent, call, keyed))
        if len(outcomes) == 1:
            return outcomes[0]
        failed = [
            f"{c.tool}: {o.detail}"
            for c, o in zip(request.calls, outcomes, strict=True)
            if o.status != "executed"
        ]
        status: Literal["executed", "failed"] = "failed" if failed else "executed"
        detail = "; ".join(failed)
        return ToolOutcome(
            status=status,
            output={"calls": [{"status": o.status, **o.output} for o in outcomes]},
            detail=detail,
            calls=tuple(outcomes),
        )

    @staticmethod
    async def _execute_one(agent: Agent, call: RequestedCall, context: ToolContext) -> ToolOutcome:
        tool = agent.tool(call.tool)
        if tool is None:
            return ToolOutcome(status="failed", detail=f"{agent.name} has no tool {call.tool}")
        try:
            output = await run_tool(tool, tool.parse(call.arguments), context, call.call_id)
        except (ToolError, ValidationError) as exc:
            return ToolOutcome(status="failed", detail=str(exc))
        return ToolOutcome(status="executed", output=output)

    @agent_run  # its span; its model calls are this agent's
    async def _loop(self, run: _Run) -> AgentResult:
        own = [t.schema() for t in run.agent.tools]
        first = own + _builtin_schemas(tuple(run.targets))
        for step in range(self.max_steps):
            # Handing off and flagging doubt are decisions about the request, made on the first
            # step; later steps only need the agent's own tools (and send fewer characters).
            completion = await self.llm.complete(
                run.agent.active_model,
                run.messages,
                tools=first if step == 0 else own,
                offline_model=run.agent.offline_model,
                listener=run.stream,
            )
            if run.stream is not None:
                await run.stream.step_done(completion.content, streamed=completion.streamed)
            run.usage += completion.usage
            run.degraded |= completion.degraded
            run.model = completion.model
            run.messages.append(completion.as_message())
            if not completion.tool_calls:
                return self._result(run, completion.content or "")
            run.step = step
            await self._step(run, completion)
            if run.handoff is not None:
                return self._result(run, completion.content or "")
        log.warning("agent.step_limit", agent=run.agent.name, steps=self.max_steps)
        run.confident = False
        return self._result(run, "I could not finish this in the steps I am allowed.")

    def _result(self, run: _Run, text: str) -> AgentResult:
        return AgentResult(
            agent=run.agent.name,
            text=text.strip(),
            tool_calls=run.records,
            approvals=run.approvals,
            handoff=run.handoff,
            usage=run.usage,
            confident=run.confident,
            degraded=run.degraded,
            model=run.model,
        )

    async def _step(self, run: _Run, completion: Completion) -> None:
        """One model step's calls: check each, decide which need a human, run the rest."""
        plain: list[_Call] = []
        priced: list[_Call] = []
        gated: list[_Call] = []
        for position, call in enumerate(completion.tool_calls):
            checked = self._check(run, call, position)
            if checked is None:
                continue
            risky = checked.tool.risk_of(checked.arguments) is Risk.HIGH
            if checked.tool.exposure is not None:
                checked.exposure = await checked.tool.exposure(checked.arguments)
            if (risky or checked.exposure is not None) and len(priced) + len(gated) >= (
                MAX_RISKY_PER_STEP
            ):
                detail = f"at most {MAX_RISKY_PER_STEP} risky actions in one step; not done"
                self._refuse(run, call, checked.raw, "error", detail)
                continue
            (gated if risky else priced if checked.exposure else plain).append(checked)
        if priced and (gated or not await self._within_limits(run, priced)):
            gated = [*gated, *priced]
            priced = []
        if run.stream is not None and (plain or priced):
            first = [*plain, *priced][0]
            await run.stream.status(doing.for_tool(first.call.name, first.raw))
        for item in [*plain, *priced]:
            await self._run_tool(run, item)
        if gated:
            self._request_approval(run, gated, completion)

    def _check(self, run: _Run, call: ToolCall, position: int) -> _Call | None:
        """Built-ins, unknown tools and invalid arguments are answered here; None for those."""
        raw = _arguments(call.arguments)
        if call.name == LOW_CONFIDENCE:
            run.confident = False
            run.messages.append(_tool_message(call.id, {"status": "noted"}))
            return None
        if call.name == HANDOFF and run.targets:
            self._handoff(run, call, raw)
            return None
        tool = run.agent.tool(call.name)
        if tool is None:
            self._refuse(run, call, raw, "unknown_tool", f"{call.name} is not one of your tools")
            return None
        try:
            arguments = tool.parse(raw if raw is not None else {})
        except ValidationError as exc:
            self._invalid(run, call, raw, exc)
            return None
        key = f"{run.turn.event_id}:{run.agent.name}:{run.step}:{position}:{call.name}"
        return _Call(call=call, tool=tool, arguments=arguments, raw=raw or {}, key=key)

    async def _within_limits(self, run: _Run, priced: list[_Call]) -> bool:
        """Reserve the step's amounts in every scope at once; False means a human must decide."""
        exposures = [c.exposure for c in priced if c.exposure is not None]
        limit = min(e.limit for e in exposures)
        total = sum((e.major for e in exposures), Decimal(0))
        if run.pending_major + total > limit:
            return False
        turn = run.turn
        holds = [
            SpendHold(
                c.key,
                scopes(c.exposure, turn=turn.event_id, team=turn.team_id, requester=turn.user_id),
                to_units(c.exposure.major, up=True),
            )
            for c in priced
            if c.exposure is not None
        ]
        return await self.limits.reserve(
            holds, limit_units=to_units(limit, up=False), window=self.window
        )

    async def _run_tool(self, run: _Run, item: _Call) -> None:
        call = item.call
        context = ToolContext(
            team_id=run.turn.team_id,
            channel=run.turn.channel,
            thread_ts=run.turn.thread_ts,
            user_id=run.turn.user_id,
            idempotency_key=item.key,
            agent=run.agent.name,
        )
        try:
            output = await run_tool(item.tool, item.arguments, context, call.id)
        except ToolError as exc:
            if item.exposure is not None:
                await self.limits.release(item.key)  # nothing moved: it does not count
            self._refuse(run, call, item.raw, "error", str(exc))
            return
        run.records.append(
            ToolCallRecord(
                id=call.id, name=call.name, arguments=item.raw, status="ok", output=output
            )
        )
        run.messages.append(_tool_message(call.id, output))
        effect = item.tool.effect
        if run.stream is not None and effect:
            run.stream.note_effect(effect)

    def _handoff(self, run: _Run, call: ToolCall, raw: dict[str, Any] | None) -> None:
        try:
            args = HandoffArgs.model_validate(raw or {})
        except ValidationError as exc:
            self._invalid(run, call, raw, exc)
            return
        if args.to not in run.targets:
            self._refuse(run, call, raw, "invalid", f"cannot hand off to {args.to}")
            return
        run.handoff = Handoff(args.to, args.reason)
        run.messages.append(_tool_message(call.id, {"status": "handed_off", "to": args.to}))

    def _request_approval(self, run: _Run, gated: list[_Call], completion: Completion) -> None:
        """Every risky call of the step on one request; the model is told none of them ran."""
        calls: list[RequestedCall] = []
        asked = {
            (c.tool, json.dumps(c.arguments, sort_keys=True))
            for a in run.approvals
            for c in a.calls
        }
        for item in gated:
            arguments = item.arguments.model_dump(mode="json")
            summary = item.tool.describe(item.arguments)
            exposure = item.exposure
            # A call asked for in an earlier step of this turn is not asked for twice.
            if (item.call.name, json.dumps(arguments, sort_keys=True)) not in asked:
                calls.append(
                    RequestedCall(
                        tool=item.call.name,
                        arguments=arguments,
                        summary=summary,
                        call_id=item.call.id,
                        minor=exposure.minor if exposure else None,
                        currency=exposure.currency if exposure else None,
                    )
                )
                run.pending_major += exposure.major if exposure else Decimal(0)
            run.records.append(
                ToolCallRecord(
                    id=item.call.id,
                    name=item.call.name,
                    arguments=arguments,
                    status="approval_requested",
                )
            )
            run.messages.append(
                _tool_message(
                    item.call.id,
                    {
                        "status": "approval_requested",
                        "detail": "Not done yet: a human must approve this first. Tell the user.",
                        "summary": summary,
                    },
                )
            )
        if not calls:
            return
        if run.stream is not None:
            run.stream.note_pending()
        first = gated[0]
        rationale = (completion.content or "").strip() or str(
            first.arguments.model_dump().get("reason", "")
        )
        key = f"{run.turn.event_id}:{run.agent.name}:{run.step}"
        run.approvals.append(
            ApprovalRequest(agent=run.agent.name, calls=tuple(calls), rationale=rationale, key=key)
        )

    def _invalid(
        self, run: _Run, call: ToolCall, raw: dict[str, Any] | None, exc: ValidationError
    ) -> None:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        if call.name not in run.invalid_retries:
            run.invalid_retries.add(call.name)
            run.messages.append(
                _tool_message(
                    call.id, {"status": "invalid_arguments", "detail": problems, "retry": True}
                )
            )
            run.records.append(
                ToolCallRecord(
                    id=call.id,
                    name=call.name,
                    arguments=raw or {},
                    status="invalid",
                    error=problems,
                )
            )
            return
        self._refuse(
            run, call, raw, "invalid", f"gave up after invalid arguments again: {problems}"
        )

    def _refuse(
        self,
        run: _Run,
        call: ToolCall,
        raw: dict[str, Any] | None,
        status: Literal["error", "invalid", "unknown_tool"],
        detail: str,
    ) -> None:
        run.records.append(
            ToolCallRecord(
                id=call.id, name=call.name, arguments=raw or {}, status=status, error=detail
            )
        )
        run.messages.append(_tool_message(call.id, {"status": status, "detail": detail}))


def _arguments(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _tool_message(call_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(content, default=str)}
