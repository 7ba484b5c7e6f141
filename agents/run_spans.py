"""Spans of agent runs and tool calls, in the GenAI conventions' words.

An agent run is `invoke_agent <agent>`: its model calls and tool calls nest inside it, and it
ends with what the run produced (tokens, cost, tool calls, approvals asked for, a hand-off). A
tool call is `execute_tool <tool>`, whether it runs at once (a low-risk tool) or after a human
approved it. Tool arguments and results are content: in spans only when capture is on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from agents import metering, tracing
from agents.results import AgentResult
from agents.tool import Tool, ToolContext, ToolOutput


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _AgentRun(Protocol):
    @property
    def agent(self) -> _Named: ...


S = TypeVar("S")
R = TypeVar("R", bound=_AgentRun)


def agent_run(
    loop: Callable[[S, R], Awaitable[AgentResult]],
) -> Callable[[S, R], Awaitable[AgentResult]]:
    """Wrap an agent loop: its span, and its model calls counted as that agent's."""

    @functools.wraps(loop)
    async def traced(self: S, run: R) -> AgentResult:
        name = run.agent.name
        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name}
        with metering.acting_as(name), tracing.span(f"invoke_agent {name}", attributes) as span:
            result = await loop(self, run)
            span.set_attributes(
                tracing.clean(
                    {
                        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
                        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
                        "switchboard.cost_usd": result.usage.cost_usd,
                        "switchboard.model": result.model or None,
                        "switchboard.tool_calls": len(result.tool_calls),
                        "switchboard.approvals_requested": len(result.approvals),
                        "switchboard.handoff_to": result.handoff.to if result.handoff else None,
                        "switchboard.confident": result.confident,
                        "switchboard.degraded": result.degraded,
                    }
                )
            )
            return result

    return traced


async def run_tool(
    tool: Tool[Any], arguments: BaseModel, context: ToolContext, call_id: str
) -> ToolOutput:
    """Run one tool call inside its span."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": call_id or None,
        "gen_ai.agent.name": context.agent or None,
        "switchboard.idempotency_key": context.idempotency_key,
    }
    if tracing.capture_content():
        attributes["gen_ai.tool.call.arguments"] = arguments.model_dump_json()
    with tracing.span(f"execute_tool {tool.name}", attributes) as span:
        output = await tool.run(arguments, context)
        if tracing.capture_content():
            span.set_attribute("gen_ai.tool.call.result", json.dumps(output, default=str))
        return output
