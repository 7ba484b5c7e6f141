"""The agent loop: ask the model, run the tools it asks for, until it answers.

The loop enforces in code what no prompt can: an agent calls only its own tools; arguments are
validated (a bad call goes back to the model once, then fails gracefully); a high-risk call
never runs here but becomes an `ApprovalRequest`; the number of steps is bounded. Two built-in
tools let the model hand the conversation to another specialist or flag that it is unsure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import structlog
from pydantic import BaseModel, Field, ValidationError

from agents.agent import Agent
from agents.errors import ToolError
from agents.llm import LLM, Completion, ToolCall, Usage
from agents.results import (
    AgentResult,
    ApprovalRequest,
    Handoff,
    ToolCallRecord,
    ToolOutcome,
    TurnInput,
)
from agents.tool import Risk, ToolContext, compact_schema

log = structlog.stdlib.get_logger(__name__)

HANDOFF, LOW_CONFIDENCE = "handoff", "flag_low_confidence"


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


@dataclass
class _Run:
    """The state of one run of the loop."""

    agent: Agent
    turn: TurnInput
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


class Runner:
    def __init__(self, llm: LLM, *, max_steps: int = 6) -> None:
        self.llm = llm
        self.max_steps = max_steps

    async def run(
        self,
        agent: Agent,
        turn: TurnInput,
        history: list[dict[str, Any]],
        *,
        handoff_targets: list[str] | None = None,
    ) -> AgentResult:
        """Answer `turn.text` given the thread's `history` (user and assistant messages)."""
        messages = [
            {"role": "system", "content": agent.instructions},
            *history,
            {"role": "user", "content": turn.text},
        ]
        return await self._loop(_Run(agent, turn, messages, handoff_targets or []))

    async def resume(
        self,
        agent: Agent,
        turn: TurnInput,
        history: list[dict[str, Any]],
        request: ApprovalRequest,
        outcome: ToolOutcome,
    ) -> AgentResult:
        """Continue after a human decided: the agent sees its call and how it ended."""
        call = {
            "id": request.tool_call_id,
            "type": "function",
            "function": {"name": request.tool, "arguments": json.dumps(request.arguments)},
        }
        messages = [
            {"role": "system", "content": agent.instructions},
            *history,
            {"role": "user", "content": turn.text},
            {"role": "assistant", "content": request.rationale or None, "tool_calls": [call]},
            _tool_message(request.tool_call_id, outcome.as_tool_message()),
        ]
        return await self._loop(_Run(agent, turn, messages, []))

    async def execute(
        self, agent: Agent, request: ApprovalRequest, context: ToolContext
    ) -> ToolOutcome:
        """Run an approved call. `context.idempotency_key` must be the approval's id."""
        tool = agent.tool(request.tool)
        if tool is None:
            return ToolOutcome("failed", detail=f"{agent.name} has no tool {request.tool}")
        try:
            output = await tool.run(tool.parse(request.arguments), context)
        except (ToolError, ValidationError) as exc:
            return ToolOutcome("failed", detail=str(exc))
        return ToolOutcome("executed", output=output)

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
            )
            run.usage += completion.usage
            run.degraded |= completion.degraded
            run.model = completion.model
            run.messages.append(completion.as_message())
            if not completion.tool_calls:
                return self._result(run, completion.content or "")
            for call in completion.tool_calls:
                await self._handle(run, call, completion)
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

    async def _handle(self, run: _Run, call: ToolCall, completion: Completion) -> None:
        raw = _arguments(call.arguments)
        if call.name == LOW_CONFIDENCE:
            run.confident = False
            run.messages.append(_tool_message(call.id, {"status": "noted"}))
            return
        if call.name == HANDOFF and run.targets:
            self._handoff(run, call, raw)
            return
        tool = run.agent.tool(call.name)
        if tool is None:
            self._refuse(run, call, raw, "unknown_tool", f"{call.name} is not one of your tools")
            return
        try:
            arguments = tool.parse(raw if raw is not None else {})
        except ValidationError as exc:
            self._invalid(run, call, raw, exc)
            return
        if tool.risk_of(arguments) is Risk.HIGH:
            self._request_approval(
                run, call, arguments.model_dump(mode="json"), tool.describe(arguments), completion
            )
            return
        context = ToolContext(
            team_id=run.turn.team_id,
            channel=run.turn.channel,
            thread_ts=run.turn.thread_ts,
            user_id=run.turn.user_id,
            idempotency_key=f"{run.turn.event_id}:{call.name}:{len(run.records)}",
            agent=run.agent.name,
        )
        try:
            output = await tool.run(arguments, context)
        except ToolError as exc:
            self._refuse(run, call, raw, "error", str(exc))
            return
        run.records.append(ToolCallRecord(call.id, call.name, raw or {}, "ok", output=output))
        run.messages.append(_tool_message(call.id, output))

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

    def _request_approval(
        self,
        run: _Run,
        call: ToolCall,
        arguments: dict[str, Any],
        summary: str,
        completion: Completion,
    ) -> None:
        duplicate = any(a.tool == call.name and a.arguments == arguments for a in run.approvals)
        if not duplicate:
            rationale = (completion.content or "").strip() or str(arguments.get("reason", ""))
            run.approvals.append(
                ApprovalRequest(run.agent.name, call.name, arguments, summary, rationale, call.id)
            )
        run.records.append(ToolCallRecord(call.id, call.name, arguments, "approval_requested"))
        run.messages.append(
            _tool_message(
                call.id,
                {
                    "status": "approval_requested",
                    "detail": "Not done yet: a human must approve this first. Tell the user.",
                    "summary": summary,
                },
            )
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
                ToolCallRecord(call.id, call.name, raw or {}, "invalid", error=problems)
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
        run.records.append(ToolCallRecord(call.id, call.name, raw or {}, status, error=detail))
        run.messages.append(_tool_message(call.id, {"status": status, "detail": detail}))


def _arguments(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _tool_message(call_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(content, default=str)}
