"""Each model call, observed: a GenAI span, its price, and a line on the turn's meter.

The span follows OpenTelemetry's GenAI semantic conventions (`chat <model>`, kind CLIENT,
`gen_ai.provider.name` and the older `gen_ai.system`, request and response model, input and
output tokens), so any tracing backend shows model calls as model calls. What the call cost is
added as `switchboard.cost_usd`. Prompts and replies go into the span only when content capture
is on (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`); otherwise a span says who was
asked and what it cost, never what was said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span, SpanKind

from agents import metering, tracing
from agents.pricing import Price, cost_of

if TYPE_CHECKING:  # agents.llm imports this module
    from agents.llm import Completion


def provider_and_name(model: str) -> tuple[str, str]:
    """`openai/gpt-4o-mini` → (`openai`, `gpt-4o-mini`): litellm's provider prefix and the rest."""
    provider, _, name = model.partition("/")
    return (provider, name) if name else ("openai", model)


class ObservedCall:
    """The span of one call in flight; `completed` prices, records and closes its account."""

    def __init__(self, span: Span, model: str, prices: Mapping[str, Price]) -> None:
        self.span = span
        self.model = model
        self.prices = prices

    def completed(self, completion: Completion, response: Any) -> Completion:
        """The completion with its cost; the span gets the usage, the meter gets the call."""
        usage = completion.usage
        cost = cost_of(
            self.model, response, usage.prompt_tokens, usage.completion_tokens, self.prices
        )
        answered_by = str(getattr(response, "model", "") or "")
        choices = getattr(response, "choices", None) or []
        reasons = [str(c.finish_reason) for c in choices if getattr(c, "finish_reason", None)]
        self.span.set_attributes(
            tracing.clean(
                {
                    "gen_ai.response.model": answered_by or None,
                    "gen_ai.response.id": str(getattr(response, "id", "") or "") or None,
                    "gen_ai.response.finish_reasons": reasons or None,
                    "gen_ai.usage.input_tokens": usage.prompt_tokens,
                    "gen_ai.usage.output_tokens": usage.completion_tokens,
                    "switchboard.cost_usd": cost,
                }
            )
        )
        if tracing.capture_content():
            self.span.set_attribute("gen_ai.output.messages", _output_json(completion))
        metering.record(
            metering.ModelCall(
                agent=metering.current_agent(),
                model=self.model,
                input_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                cost_usd=cost,
                response_model=answered_by,
            )
        )
        return replace(completion, usage=replace(usage, cost_usd=cost))


@contextmanager
def model_call(
    model: str,
    messages: Sequence[dict[str, Any]],
    prices: Mapping[str, Price],
) -> Iterator[ObservedCall]:
    """A span around one call to `model`; a failure marks it with the error's type only."""
    provider, name = provider_and_name(model)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": name,
        "gen_ai.agent.name": metering.current_agent(),
    }
    if tracing.capture_content():
        attributes["gen_ai.input.messages"] = _input_json(messages)
    with tracing.span(f"chat {name}", attributes, kind=SpanKind.CLIENT) as current:
        yield ObservedCall(current, model, prices)


def _input_json(messages: Sequence[dict[str, Any]]) -> str:
    """The prompt in the conventions' shape: a role and its parts per message."""
    shaped = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        if message.get("content"):
            kind = "tool_call_response" if message.get("role") == "tool" else "text"
            parts.append({"type": kind, "content": message["content"]})
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": function.get("arguments"),
                }
            )
        shaped.append({"role": message.get("role"), "parts": parts})
    return json.dumps(shaped, default=str)


def _output_json(completion: Completion) -> str:
    parts: list[dict[str, Any]] = []
    if completion.content:
        parts.append({"type": "text", "content": completion.content})
    parts += [
        {"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments}
        for c in completion.tool_calls
    ]
    return json.dumps([{"role": "assistant", "parts": parts}])
