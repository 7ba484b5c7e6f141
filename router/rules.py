"""Explicit rules: phrases that decide the route outright, before any classifier.

They exist for what must never be left to a probability: someone asking to page on-call, a
declared severity, an outage or a security incident. Each rule names itself in the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.decision import RouteChoice, RouteDecision


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    route: str


def _rule(name: str, pattern: str, route: str) -> Rule:
    return Rule(name, re.compile(pattern, re.IGNORECASE), route)


RULES: tuple[Rule, ...] = (
    _rule(
        "page on-call",
        r"\bpage\s+(?:the\s+)?on[- ]?call\b|\bwake\s+up\s+on[- ]?call\b",
        "escalation",
    ),
    _rule(
        "severity declared", r"\bsev\s*-?\s*[12]\b|\bp0\b|\bpriority\s*(?:zero|0)\b", "escalation"
    ),
    _rule(
        "outage",
        r"\b(?:outage|site\s+is\s+down|everything\s+is\s+down|all\s+customers)\b",
        "escalation",
    ),
    _rule(
        "security incident",
        r"\b(?:data\s+breach|breached|leaked\s+(?:api\s+)?(?:key|token|credentials)|compromised\s+account)\b",
        "escalation",
    ),
    _rule("open incident", r"\b(?:open|declare|start)\s+an?\s+incident\b", "escalation"),
)


def match_rule(text: str) -> RouteDecision | None:
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            return RouteDecision(
                routes=(RouteChoice(rule.route, 1.0),),
                source="rule",
                reason=f'rule "{rule.name}" matched "{found.group(0)}"',
            )
    return None
