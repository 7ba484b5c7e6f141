"""The one door to language models: litellm, with timeouts, retries, fallbacks and breakers.

Every model call in the product goes through `LLM.complete`. A model string picks the provider
(`openai/...`, `anthropic/...`, `ollama/...`, or `offline/<agent>` for the built-in offline
model), so the agent loop is the same code whichever answers. When every configured model fails
or sits behind an open breaker, the offline model answers and the completion says it degraded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import litellm
import structlog

from agents.breaker import Breakers
from agents.errors import LLMUnavailable

log = structlog.stdlib.get_logger(__name__)
litellm.suppress_debug_info = True  # no "Give Feedback" banners on stdout

# Worth another try on the same model: the provider or the network hiccuped.
RETRYABLE: tuple[type[BaseException], ...] = (
    litellm.exceptions.APIConnectionError,
    litellm.exceptions.RateLimitError,
    litellm.exceptions.ServiceUnavailableError,
    litellm.exceptions.InternalServerError,
    litellm.exceptions.Timeout,
    TimeoutError,
)
# Not worth retrying the same model, but a fallback model may still work.
PROVIDER_ERRORS: tuple[type[BaseException], ...] = (*RETRYABLE, litellm.exceptions.APIError)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    content: str | None
    tool_calls: list[ToolCall]
    model: str
    usage: Usage
    degraded: bool = False

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the transcript."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls
            ]
        return message


@dataclass(frozen=True)
class LLMSettings:
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    fallbacks: tuple[str, ...] = ()
    breaker_threshold: int = 5
    breaker_cooldown: float = 60.0


@dataclass
class LLM:
    settings: LLMSettings = field(default_factory=LLMSettings)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.breakers = Breakers(
            self.settings.breaker_threshold, self.settings.breaker_cooldown, self.clock
        )

    async def complete(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        offline_model: str | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """Ask `model`, then each fallback; the offline model last, marked degraded."""
        candidates = [model, *(m for m in self.settings.fallbacks if m != model)]
        for candidate in candidates:
            breaker = self.breakers[candidate]
            if not breaker.allow():
                continue
            try:
                completion = await self._with_retries(candidate, messages, tools, response_format)
            except PROVIDER_ERRORS as exc:
                breaker.record_failure()
                log.warning("llm.model_failed", model=candidate, error=type(exc).__name__)
                continue
            breaker.record_success()
            return completion
        if offline_model is None or offline_model in candidates:
            raise LLMUnavailable(f"no model answered (tried {', '.join(candidates)})")
        completion = await self._call(offline_model, messages, tools, response_format)
        return Completion(
            completion.content, completion.tool_calls, offline_model, completion.usage, True
        )

    async def _with_retries(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
    ) -> Completion:
        for attempt in range(self.settings.retries + 1):
            try:
                return await self._call(model, messages, tools, response_format)
            except RETRYABLE:
                if attempt == self.settings.retries:
                    raise
                await self.sleep(self.settings.backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def _call(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
    ) -> Completion:
        kwargs: dict[str, Any] = {"timeout": self.settings.timeout}
        if tools:
            kwargs["tools"] = list(tools)
        if response_format is not None:
            kwargs["response_format"] = response_format
        async with asyncio.timeout(self.settings.timeout):
            response = await litellm.acompletion(model=model, messages=list(messages), **kwargs)
        return _completion_of(model, response)


def _completion_of(model: str, response: Any) -> Completion:
    message = response.choices[0].message
    calls = [
        ToolCall(c.id, c.function.name, c.function.arguments or "{}")
        for c in (getattr(message, "tool_calls", None) or [])
    ]
    usage = getattr(response, "usage", None)
    cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost") or 0.0
    return Completion(
        content=message.content,
        tool_calls=calls,
        model=model,
        usage=Usage(
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            float(cost),
        ),
    )
