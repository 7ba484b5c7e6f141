"""The LLM route classifier: asked only when a model is configured and the fast one is unsure.

It answers in structured JSON (routes with confidences and a reason), validated with pydantic.
Anything else (an error, an unknown route, invalid JSON) falls back to the fast classifier's
decision rather than failing the turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from agents.errors import AgentError
from router.decision import ROUTES, RouteChoice, RouteDecision

if TYPE_CHECKING:  # litellm behind it takes seconds to import; routing without a model skips it
    from agents.llm import LLM

PROMPT = """You route support messages to specialists. Routes:
- triage: general intake, unclear requests, account admin, feedback, anything needing more info
- billing: charges, invoices, refunds, credits, payments, plans and subscriptions
- technical: the product not working: errors, bugs, login problems, API, integrations, how-to
- escalation: outages, incidents, security problems, data loss, demands for a human or manager
Answer only JSON: {"routes": [{"route": "<route>", "confidence": 0.0-1.0}], "reason": "<why>"}.
List two routes only when the message clearly needs both."""


class _Choice(BaseModel):
    route: str
    confidence: float = Field(ge=0, le=1)


class _Answer(BaseModel):
    routes: list[_Choice] = Field(min_length=1, max_length=2)
    reason: str


class LLMRouter:
    def __init__(self, llm: LLM, model: str) -> None:
        self.llm = llm
        self.model = model

    async def classify(self, text: str) -> RouteDecision | None:
        messages = [{"role": "system", "content": PROMPT}, {"role": "user", "content": text}]
        try:
            completion = await self.llm.complete(
                self.model, messages, response_format={"type": "json_object"}
            )
            answer = _Answer.model_validate_json(completion.content or "")
        except (AgentError, ValidationError, ValueError):
            return None
        choices = tuple(
            RouteChoice(c.route, c.confidence) for c in answer.routes if c.route in ROUTES
        )
        if not choices:
            return None
        return RouteDecision(routes=choices, source="llm", reason=answer.reason[:300])
