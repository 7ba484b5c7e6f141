"""The one door to language models: litellm, with timeouts, retries, fallbacks and breakers.

Every model call in the product goes through `LLM.complete`. A model string picks the provider
(`openai/...`, `anthropic/...`, `ollama/...`, or `offline/<agent>` for the built-in offline
model), so the agent loop is the same code whichever answers. When every configured model fails
or sits behind an open breaker, the offline model answers and the completion says it degraded.

Given a `Listener`, a provider's answer is streamed (asking for usage in the stream, as OpenAI
requires for it to be counted) and its text handed on as it arrives; a stream that stalls
longer than a call's limit, or breaks, fails like any call, and the listener is told to forget
what that attempt said (`restart`). The offline model (like any custom provider registered in
this process) answers whole: it has nothing to stream.

Time comes from the turn's budget (`agents.budget`): each call's timeout is what the turn has
left, failures and the pauses between retries are charged to it, and a model that failed once
in a turn is skipped for the rest of it, so a provider that is down in any way costs a turn at
most `failure_budget` seconds before the fallbacks and then the offline model answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import litellm
import structlog

from agents.breaker import Breakers
from agents.budget import TurnBudget, current_budget
from agents.cost import cost_of
from agents.errors import LLMUnavailable
from agents.observe import model_call
from agents.pricing import Price
from agents.provider_errors import ProviderFailure, classify, fix_for
from agents.spend_budget import reached as over_spend_budget
from agents.usage import Usage as Usage  # its home before agents.usage; callers import it here

log = structlog.stdlib.get_logger(__name__)
litellm.suppress_debug_info = True  # no "Give Feedback" banners on stdout

OFFLINE_PREFIX = "offline/"
MIN_CALL = 0.05  # seconds; a call given less time than this is not worth starting


class Listener(Protocol):
    """Who hears a streamed answer's text as it arrives (the turn's vetted stream)."""

    async def delta(self, text: str) -> None: ...

    async def restart(self) -> None:
        """The attempt whose text you heard failed; another answer follows from the start."""


class _GaveUp(Exception):  # noqa: N818  (internal: this model will not answer this turn)
    """This model failed (or has no time left) in this turn; the next candidate is asked."""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, kw_only=True)
class Completion:
    content: str | None
    tool_calls: list[ToolCall]
    model: str
    usage: Usage
    degraded: bool = False
    streamed: bool = False  # its text already went to the listener as it arrived

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


@dataclass(frozen=True, kw_only=True)
class LLMSettings:
    timeout: float = 15.0  # the longest wait for one call
    retries: int = 2  # more tries on the same model after a rate limit or a 5xx
    backoff: float = 0.5
    fallbacks: tuple[str, ...] = ()
    breaker_threshold: int = 5
    breaker_cooldown: float = 60.0
    failure_budget: float = 15.0  # what failing models may cost one turn, in seconds
    reserve: float = 2.0  # seconds kept before the turn's deadline for the offline model
    prices: Mapping[str, Price] = field(default_factory=dict)  # per model, over litellm's map


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
        listener: Listener | None = None,
    ) -> Completion:
        """Ask `model`, then each fallback; the offline model last, marked degraded.

        With a `listener`, providers stream and the listener hears their text as it comes.
        """
        budget = current_budget() or TurnBudget(clock=self.clock)
        candidates = [model, *(m for m in self.settings.fallbacks if m != model)]
        if over_spend_budget() is not None:  # a money budget is spent: the offline model only
            candidates = []
        for candidate in candidates:
            if candidate in budget.failed:
                continue
            if self._time_left(budget) < MIN_CALL:
                budget.failed.add(candidate)
                continue
            if not self.breakers[candidate].allow():
                continue
            try:
                return await self._ask(
                    candidate, messages, tools, response_format, budget, listener
                )
            except _GaveUp:
                budget.failed.add(candidate)
        if offline_model is None or offline_model in candidates:
            raise LLMUnavailable(f"no model answered (tried {', '.join(candidates)})")
        completion = await self._call(
            offline_model, messages, tools, response_format, self.settings.timeout, None
        )
        return Completion(
            content=completion.content,
            tool_calls=completion.tool_calls,
            model=offline_model,
            usage=completion.usage,
            degraded=True,
        )

    def _time_left(self, budget: TurnBudget) -> float:
        """The timeout of the next call: the per-call limit, or less when the turn has less."""
        return min(
            self.settings.timeout,
            self.settings.failure_budget - budget.lost,
            budget.remaining() - self.settings.reserve,
        )

    async def _ask(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        budget: TurnBudget,
        listener: Listener | None,
    ) -> Completion:
        """One model, with retries for the failures worth retrying, within the turn's budget."""
        breaker = self.breakers[model]
        for attempt in range(self.settings.retries + 1):
            started = self.clock()
            try:
                completion = await self._call(
                    model, messages, tools, response_format, self._time_left(budget), listener
                )
            except asyncio.CancelledError:  # the turn gave up waiting: that is a failure too
                budget.lost += self.clock() - started
                self._failed(model, ProviderFailure(kind="timeout", error="CancelledError"))
                raise
            except Exception as exc:
                if model.startswith(OFFLINE_PREFIX):
                    raise  # our own code: a bug to see, not a provider to fall back from
                if listener is not None:
                    await listener.restart()  # what this attempt said is void
                budget.lost += self.clock() - started
                failure = classify(exc)
                wait = max(self.settings.backoff * 2**attempt, failure.retry_after or 0.0)
                if (
                    failure.retry
                    and attempt < self.settings.retries
                    and wait + MIN_CALL < self._time_left(budget)
                ):
                    log.info(
                        "llm.retry", model=model, kind=failure.kind, error=failure.error, wait=wait
                    )
                    await self.sleep(wait)
                    budget.lost += wait
                    continue
                self._failed(model, failure)
                raise _GaveUp(model) from exc
            breaker.record_success()
            return completion
        raise AssertionError("unreachable")

    def _failed(self, model: str, failure: ProviderFailure) -> None:
        breaker = self.breakers[model]
        reason = failure.describe()
        fix = fix_for(model, failure)
        if fix:
            reason = f"{reason}. {fix}"
        if failure.trips:
            opened = breaker.trip(reason)
        elif failure.counts:
            opened = breaker.record_failure(reason)
        else:
            opened = False
        log.warning(
            "llm.model_failed",
            model=model,
            kind=failure.kind,
            status=failure.status,
            error=failure.error,
        )
        if opened:
            # The one line an operator acts on; provider messages stay out (they echo keys).
            log.error(
                "llm.model_unavailable",
                model=model,
                reason=reason,
                retry_in=f"{breaker.cooldown:.0f}s",
                meanwhile="the fallback models, then the offline model, answer",
            )

    async def _call(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        limit: float,
        listener: Listener | None,
    ) -> Completion:
        # max_retries=0: the provider SDK's own retries would multiply every timeout; ours
        # are counted against the turn's budget instead.
        kwargs: dict[str, Any] = {"timeout": limit, "max_retries": 0}
        if tools:
            kwargs["tools"] = list(tools)
        if response_format is not None:
            kwargs["response_format"] = response_format
        with model_call(model, messages, self.settings.prices) as call:  # span, price, meter
            if listener is not None and _streams(model):
                completion, built = await _streamed(model, list(messages), kwargs, limit, listener)
                return call.completed(completion, built)
            async with asyncio.timeout(limit):
                response = await litellm.acompletion(model=model, messages=list(messages), **kwargs)
            return call.completed(_completion_of(model, response), response)


def _streams(model: str) -> bool:
    """Providers stream; custom providers registered with litellm in this process (the offline
    model, and any in-process model like it) answer whole: they have nothing to stream."""
    provider = model.split("/", 1)[0]
    return not any(entry["provider"] == provider for entry in litellm.custom_provider_map)


async def _streamed(
    model: str,
    messages: list[dict[str, Any]],
    kwargs: dict[str, Any],
    limit: float,
    listener: Listener,
) -> tuple[Completion, Any]:
    """Stream one answer: each chunk must come within `limit` of the one before (a stall is a
    timeout); text goes to the listener as it arrives; the chunks make the whole completion,
    returned with the response they build (its usage and model price the call)."""
    kwargs = {**kwargs, "stream": True, "stream_options": {"include_usage": True}}
    chunks: list[Any] = []
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(limit) as scope:
            response = await litellm.acompletion(model=model, messages=messages, **kwargs)
            async for chunk in response:
                scope.reschedule(loop.time() + limit)
                chunks.append(chunk)
                text = _delta_text(chunk)
                if text:
                    await listener.delta(text)
    except TimeoutError:
        if not chunks:
            raise  # never answered: a timeout, not worth the same wait again
        # It had begun and stalled: the provider's failure, worth one more try (as litellm's
        # own mid-stream error is, whichever of the two timers fires first).
        raise litellm.exceptions.APIConnectionError(
            "the stream stalled", llm_provider=model.split("/")[0], model=model
        ) from None
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    if built is None:
        raise litellm.exceptions.APIConnectionError(
            "the stream ended before any answer", llm_provider=model.split("/")[0], model=model
        )
    answered_by = _answered_by(chunks)
    if answered_by:  # litellm names the model asked for; the provider's own name prices it
        built.model = answered_by
    completion = _completion_of(model, built)
    return replace(completion, streamed=True), built


def _answered_by(chunks: Sequence[Any]) -> str:
    """The model the provider said answered a stream (a dated snapshot, say), if it said."""
    for chunk in reversed(chunks):
        hidden = getattr(chunk, "_hidden_params", None) or {}
        name = hidden.get("provider_response_model") if isinstance(hidden, Mapping) else None
        if name:
            return str(name)
    return ""


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return str(getattr(delta, "content", None) or "")


def _completion_of(model: str, response: Any) -> Completion:
    message = response.choices[0].message
    calls = [
        ToolCall(c.id, c.function.name, c.function.arguments or "{}")
        for c in (getattr(message, "tool_calls", None) or [])
    ]
    usage = getattr(response, "usage", None)
    return Completion(
        content=message.content,
        tool_calls=calls,
        model=model,
        usage=Usage(
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            cost_of(model, response),
        ),
    )
