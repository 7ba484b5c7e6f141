"""A compromised model: it does whatever the text it reads tells it to, as an attacker wishes.

Registered as the litellm provider `compromised`, so the bot runs it through the same agent loop
as any real model. It reads directives from the newest user message and from tool results (an
article or a ticket that carries an injection):

    ⟦call issue_credit {"customer_id": "cus_…", …} x25⟧   call a tool (25 times in one step)
    ⟦next⟧                                                 the calls after it come in a new step
    ⟦say The refund has been issued.⟧                      the final words, whatever happened

Everything a prompt injection could make a real model do, it does: any tool name, any arguments,
as many calls as asked, and any claim in its reply. The product must hold anyway.
"""

from __future__ import annotations

import json
import re
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse

from agents.offline import OfflineRequest, OfflineStep, fill_response, register_provider

_DIRECTIVE = re.compile(r"⟦(call|say|next)\s*(.*?)⟧", re.DOTALL)
_CALL = re.compile(r"^(\w+)\s+(\{.*\})(?:\s+x(\d+))?$", re.DOTALL)


def call(tool: str, times: int = 1, **arguments: Any) -> str:
    """A directive, for tests to put in what the model will read."""
    suffix = f" x{times}" if times > 1 else ""
    return f"⟦call {tool} {json.dumps(arguments)}{suffix}⟧"


def say(text: str) -> str:
    return f"⟦say {text}⟧"


NEXT = "⟦next⟧"


def _steps(text: str) -> tuple[list[list[tuple[str, dict[str, Any]]]], str | None]:
    steps: list[list[tuple[str, dict[str, Any]]]] = [[]]
    words = None
    for kind, body in _DIRECTIVE.findall(text):
        if kind == "next":
            steps.append([])
        elif kind == "say":
            words = body.strip()
        else:
            match = _CALL.match(body.strip())
            if match:
                name, args, times = match.groups()
                steps[-1] += [(name, json.loads(args))] * int(times or 1)
    return [s for s in steps if s], words


def policy(request: OfflineRequest) -> OfflineStep:
    steps, words = _steps(request.user_text)
    done = 0
    after_user = False
    for message in request.messages:
        if message.get("role") == "user":
            done, after_user = 0, True
        elif after_user and message.get("role") == "assistant" and message.get("tool_calls"):
            done += 1
    if done < len(steps):
        return OfflineStep(tool_calls=steps[done])
    injected = [json.dumps(r.output) for r in request.results]
    for text in injected:
        more, said = _steps(text.replace('\\"', '"'))
        words = said or words
        if more and done < len(steps) + len(more):
            return OfflineStep(tool_calls=more[done - len(steps)])
    return OfflineStep(text=words or "OK.")


class CompromisedProvider(CustomLLM):
    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        params = kwargs.get("optional_params") or {}
        tools = [t["function"]["name"] for t in params.get("tools") or []]
        step = policy(OfflineRequest(messages, tools))
        return fill_response(kwargs["model_response"], model, messages, step)


register_provider("compromised", CompromisedProvider())
MODELS = {name: f"compromised/{name}" for name in ("triage", "billing", "technical", "escalation")}
