"""The offline model: a deterministic litellm provider, so no key and no network are needed.

It is registered as the litellm provider `offline`; `offline/<agent>` runs that agent's policy.
A policy reads the conversation (the user's words, the tool results so far) and either asks for
tool calls or writes the reply from the tools' results. It is not a language model: it does not
understand free text beyond the patterns its policy looks for, and it says so when it is unsure.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import (
    ChatCompletionMessageToolCall,
    Choices,
    Function,
    Message,
    ModelResponse,
)
from litellm.types.utils import Usage as LiteUsage

from agents import litellm_memory


@dataclass(frozen=True)
class ToolResult:
    name: str
    arguments: dict[str, Any]
    output: dict[str, Any]


@dataclass(frozen=True)
class OfflineRequest:
    """The conversation as the policy sees it."""

    messages: list[dict[str, Any]]
    tools: list[str]

    @property
    def user_text(self) -> str:
        """The newest user message: what this turn is about."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""

    @property
    def history(self) -> list[dict[str, Any]]:
        """Messages before the newest user message (earlier turns of the thread)."""
        last_user = max(
            (i for i, m in enumerate(self.messages) if m.get("role") == "user"), default=0
        )
        return [m for m in self.messages[:last_user] if m.get("role") in ("user", "assistant")]

    @property
    def results(self) -> list[ToolResult]:
        """Tool calls made since the newest user message, with their outputs, in order."""
        calls: dict[str, tuple[str, dict[str, Any]]] = {}
        results: list[ToolResult] = []
        after_user = False
        for message in self.messages:
            if message.get("role") == "user":
                calls, results, after_user = {}, [], True
            elif after_user and message.get("role") == "assistant":
                for call in message.get("tool_calls") or []:
                    function = call["function"]
                    calls[call["id"]] = (function["name"], _loads(function.get("arguments")))
            elif after_user and message.get("role") == "tool" and message["tool_call_id"] in calls:
                name, arguments = calls[message["tool_call_id"]]
                results.append(ToolResult(name, arguments, _loads(message.get("content"))))
        return results

    def result(self, name: str) -> ToolResult | None:
        return next((r for r in reversed(self.results) if r.name == name), None)

    def called(self, name: str) -> bool:
        return self.result(name) is not None


@dataclass(frozen=True)
class OfflineStep:
    """One answer of the model: tool calls to make, or the final text."""

    text: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


OfflinePolicy = Callable[[OfflineRequest], OfflineStep]


def _loads(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"text": str(raw)}
    return value if isinstance(value, dict) else {"value": value}


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(json.dumps(m, default=str)) for m in messages) // 4


def fill_response(
    response: ModelResponse, model: str, messages: list[dict[str, Any]], step: OfflineStep
) -> ModelResponse:
    """Shape a step as an OpenAI-style chat completion, with token counts estimated."""
    calls = [
        ChatCompletionMessageToolCall(
            id=f"call_{uuid.uuid4().hex[:12]}",
            type="function",
            function=Function(name=name, arguments=json.dumps(arguments)),
        )
        for name, arguments in step.tool_calls
    ]
    message = Message(role="assistant", content=step.text, tool_calls=calls or None)
    response.choices = [
        Choices(index=0, finish_reason="tool_calls" if calls else "stop", message=message)
    ]
    prompt = estimate_tokens(messages)
    completion = len(step.text or "") // 4 + 20 * len(calls)
    response.usage = LiteUsage(  # type: ignore[attr-defined]
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    response.model = model
    response.created = int(time.time())
    return response


class OfflineProvider(CustomLLM):
    """Dispatches `offline/<name>` to the policy registered under that name."""

    def __init__(self) -> None:
        super().__init__()
        self.policies: dict[str, OfflinePolicy] = {}

    def _answer(
        self,
        model: str,
        messages: list[dict[str, Any]],
        optional_params: dict[str, Any],
        response: ModelResponse,
    ) -> ModelResponse:
        policy = self.policies.get(model)
        if policy is None:
            raise litellm.exceptions.BadRequestError(
                f"no offline policy named {model!r}", model=model, llm_provider="offline"
            )
        tools = [t["function"]["name"] for t in optional_params.get("tools") or []]
        step = policy(OfflineRequest(messages, tools))
        return fill_response(response, model, messages, step)

    def completion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        return self._answer(
            model, messages, kwargs.get("optional_params") or {}, kwargs["model_response"]
        )

    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        return self._answer(
            model, messages, kwargs.get("optional_params") or {}, kwargs["model_response"]
        )


_lock = threading.Lock()


def register_provider(name: str, handler: CustomLLM) -> None:
    """Add a custom provider to litellm once (litellm keeps them in a module-level list)."""
    with _lock:
        if any(entry["provider"] == name for entry in litellm.custom_provider_map):
            litellm.custom_provider_map = [
                e for e in litellm.custom_provider_map if e["provider"] != name
            ]
        litellm.custom_provider_map.append({"provider": name, "custom_handler": handler})
        litellm.utils.custom_llm_setup()  # type: ignore[no-untyped-call]


PROVIDER = OfflineProvider()
register_provider("offline", PROVIDER)
litellm_memory.release()


_FREE = {
    "litellm_provider": "offline",
    "mode": "chat",
    **dict.fromkeys(
        (
            "input_cost_per_token",
            "output_cost_per_token",
            "cache_creation_input_token_cost",
            "cache_read_input_token_cost",
        ),
        0.0,
    ),
}


def install_policy(name: str, policy: OfflinePolicy) -> str:
    """Make `offline/<name>` answer with `policy`; returns that model string."""
    PROVIDER.policies[name] = policy
    model = f"offline/{name}"
    # Priced at nothing in litellm's own list too: otherwise litellm searches that list (and
    # its fallbacks) in vain after every answer, a third of its work per call. Our cost of an
    # offline answer was already 0 (agents.cost, agents.pricing).
    litellm.register_model({model: _FREE})
    return model
