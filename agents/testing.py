"""A scripted model for tests: a litellm provider that plays back steps and fails loudly.

Every call is recorded; a call nobody scripted raises; `assert_done` checks that every step was
used. A step is an `OfflineStep` (text or tool calls), an exception to raise (a provider error),
or `HANG`, which never answers, to exercise timeouts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse

from agents.offline import OfflineStep, fill_response, register_provider

HANG = object()
Step = OfflineStep | BaseException | object


@dataclass
class Script:
    steps: list[Step]
    calls: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class ScriptedProvider(CustomLLM):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: dict[str, Script] = {}

    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        script = self.scripts.get(model)
        if script is None:
            raise AssertionError(f"scripted/{model} was called but has no script")
        params = kwargs.get("optional_params") or {}
        script.calls.append({"messages": [dict(m) for m in messages], "tools": params.get("tools")})
        if not script.steps:
            # litellm wraps provider exceptions, so the violation is also kept for assert_done.
            script.violations.append(f"scripted/{model} was called more times than scripted")
            raise AssertionError(script.violations[-1])
        step = script.steps.pop(0)
        if step is HANG:
            await asyncio.Event().wait()
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, OfflineStep)
        return fill_response(kwargs["model_response"], model, messages, step)


PROVIDER = ScriptedProvider()
register_provider("scripted", PROVIDER)


class ScriptedModel:
    """`ScriptedModel("billing", [...]).model` is the model string to configure."""

    def __init__(self, name: str, steps: list[Step]) -> None:
        self.name = name
        self.script = Script(list(steps))
        PROVIDER.scripts[name] = self.script

    @property
    def model(self) -> str:
        return f"scripted/{self.name}"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.script.calls

    def assert_done(self) -> None:
        assert not self.script.violations, "; ".join(self.script.violations)
        assert not self.script.steps, f"{len(self.script.steps)} scripted steps were never used"
