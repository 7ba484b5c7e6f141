"""The figures of a digest window, as plain values, and the text helpers behind them.

`storage.reports` computes them; `bot.digests.view` shows them. Their definitions are in the
docstring of `storage.reports`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

ESCALATION = "escalation"
TOPIC_SAMPLE = 5000
_WORD = re.compile(r"[a-z][a-z0-9'_-]{2,}")
_MARKUP = re.compile(r"<[^>\s]*>|https?://\S+")
_STOP = """
    about above after again against all also am an and any anyone are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further get gets got had hadn't has
    hasn't have haven't having he hello help her here hers herself hey hi him himself his how
    i'd i'll i'm i've if in into is isn't it it's its itself just know let's like me more most
    mustn't my myself need no nor not now of off ok okay on once one only or other ought our
    ours ourselves out over own please same see shan't she should shouldn't since so some
    someone still such than thank thanks that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've think this those through to today
    tomorrow too two under until up very want was wasn't way we we'd we'll we're we've were
    weren't what what's when where which while who whom why will with won't would wouldn't yes
    yesterday yet you you'd you'll you're you've your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP.split())


@dataclass(frozen=True, kw_only=True)
class Conversations:
    total: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    by_specialist: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    escalated: int = 0
    waiting_approval: int = 0
    first_reply_p50: float | None = None
    first_reply_p95: float | None = None


@dataclass(frozen=True, kw_only=True)
class ApprovalFigures:
    requested: int = 0
    approved: int = 0
    rejected: int = 0
    expired: int = 0
    median_decision_seconds: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentUsage:
    agent: str
    replies: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Topics:
    """How many sampled opening messages use each word, out of `sampled`."""

    sampled: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def share(self, word: str) -> float:
        return self.counts.get(word, 0) / self.sampled if self.sampled else 0.0

    def top(self, limit: int = 5) -> list[tuple[str, float]]:
        """The most used words with their share, ties broken alphabetically."""
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(word, self.share(word)) for word, _ in ranked]


@dataclass(frozen=True, kw_only=True)
class WindowFigures:
    """Everything countable about one window; a digest holds two (this one and the previous)."""

    start: datetime
    end: datetime
    conversations: Conversations
    approvals: ApprovalFigures
    usage: list[AgentUsage]
    topics: Topics
    incidents_opened: int
    escalations_opened: int
    corrected: int = 0  # turns whose specialist a person corrected ("Wrong specialist?")

    @property
    def empty(self) -> bool:
        a = self.approvals
        return (
            self.conversations.total == 0
            and a.requested + a.approved + a.rejected + a.expired == 0
            and self.incidents_opened + self.escalations_opened == 0
            and not self.usage
        )


@dataclass(frozen=True, kw_only=True)
class OpenItem:
    """An open incident or escalation ticket, to be listed with a link to its thread."""

    kind: str  # "incident" or "escalation"
    id: int
    title: str
    label: str  # severity of an incident, priority of a ticket
    channel: str
    thread_ts: str
    created_at: datetime


@dataclass(frozen=True)
class DailyRoutes:
    """New conversations per route per day: `days` are bucket starts, `counts[route][i]`."""

    days: list[datetime]
    counts: dict[str, list[int]]


def word_counts(texts: list[str]) -> dict[str, int]:
    """In how many texts each word occurs; stop words, mentions and links left out."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(_WORD.findall(_MARKUP.sub(" ", text).lower())) - STOP_WORDS)
    return dict(counts)
