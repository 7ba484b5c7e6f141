"""Route decisions: which specialists, how sure, decided by which stage, and why.

A decision is stored with the message it routed, so "why did it pick billing?" always has an
answer: the source says which stage decided (an explicit rule, thread continuity, the fast
classifier, or the LLM) and the reason says what it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agents.routes import ROUTES as ROUTES  # which routes exist, for the router's stages

Source = Literal["rule", "continuity", "classifier", "llm", "handoff", "correction"]


@dataclass(frozen=True)
class RouteChoice:
    route: str  # one of agents.routes.ROUTES in the product; the classifier learns any label
    confidence: float


@dataclass(frozen=True, kw_only=True)
class RouteDecision:
    routes: tuple[RouteChoice, ...]
    source: Source
    reason: str
    runner_up: RouteChoice | None = None
    second_opinion: bool = False
    clarify: bool = False  # unsure and no LLM: ask one question instead of guessing
    upset: str | None = None  # why the person reads as frustrated ("asked before", ...)
    language: str = "en"  # ISO 639-1 code of the message

    @property
    def primary(self) -> RouteChoice:
        return self.routes[0]

    @property
    def confidence(self) -> float:
        return self.primary.confidence

    def as_json(self) -> dict[str, Any]:
        return {
            "route": self.primary.route,
            "routes": [
                {"route": c.route, "confidence": round(c.confidence, 4)} for c in self.routes
            ],
            "confidence": round(self.confidence, 4),
            "source": self.source,
            "reason": self.reason,
            "runner_up": (
                {"route": self.runner_up.route, "confidence": round(self.runner_up.confidence, 4)}
                if self.runner_up
                else None
            ),
            "second_opinion": self.second_opinion,
            "clarify": self.clarify,
            "upset": self.upset,
            "language": self.language,
        }
