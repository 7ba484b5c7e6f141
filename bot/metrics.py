"""Prometheus metrics, on a registry per app so two apps in one process (tests) don't collide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from agents.metering import ModelCall


@dataclass(frozen=True, kw_only=True)
class Metrics:
    registry: CollectorRegistry
    events: Counter
    duplicates: Counter
    routes: Counter
    turn_seconds: Histogram
    turn_failures: Counter
    llm_calls: Counter
    llm_tokens: Counter
    llm_cost: Counter
    posts: Counter
    malformed: Counter
    turns_allowed: Gauge

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            events=Counter(
                "switchboard_events", "Slack events received", ["type"], registry=registry
            ),
            duplicates=Counter(
                "switchboard_duplicate_events",
                "Events dropped as duplicates",
                ["why"],
                registry=registry,
            ),
            routes=Counter(
                "switchboard_routes", "Route decisions", ["route", "source"], registry=registry
            ),
            turn_seconds=Histogram(
                "switchboard_turn_seconds",
                "Event received to reply enqueued",
                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
                registry=registry,
            ),
            turn_failures=Counter(
                "switchboard_turn_failures", "Turns that failed", registry=registry
            ),
            llm_calls=Counter(
                "switchboard_llm_calls",
                "Answered model calls",
                ["agent", "model"],
                registry=registry,
            ),
            llm_tokens=Counter(
                "switchboard_llm_tokens",
                "LLM tokens (kind: input or output)",
                ["agent", "model", "kind"],
                registry=registry,
            ),
            llm_cost=Counter(
                "switchboard_llm_cost_usd",
                "LLM cost in USD",
                ["agent", "model"],
                registry=registry,
            ),
            posts=Counter("switchboard_slack_posts", "Outbox posts", ["result"], registry=registry),
            malformed=Counter(
                "switchboard_malformed_requests",
                "Signed requests of a shape Slack does not send, answered quietly",
                registry=registry,
            ),
            turns_allowed=Gauge(
                "switchboard_turns_allowed",
                "Turns that may run at once now: lowered while events are slow to record",
                registry=registry,
            ),
        )

    def count_model_calls(self, calls: Sequence[ModelCall]) -> None:
        """Tokens and cost by agent and model, from a turn's meter (every turn: replies,
        approval follow-ups, corrections)."""
        for call in calls:
            self.llm_calls.labels(call.agent, call.model).inc()
            self.llm_tokens.labels(call.agent, call.model, "input").inc(call.input_tokens)
            self.llm_tokens.labels(call.agent, call.model, "output").inc(call.output_tokens)
            self.llm_cost.labels(call.agent, call.model).inc(call.cost_usd)

    def render(self) -> bytes:
        return generate_latest(self.registry)
