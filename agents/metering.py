"""The turn's meter: every model call a turn makes, with its tokens and what it cost.

The router's classifier, each specialist's steps, the runner-up and hand-offs all call models,
some of them in parallel tasks. Rather than thread a list through each, the supervisor opens a
meter per turn and every call appends to it (a context variable, like the turn's time budget in
`agents.budget`); the supervisor then stores the calls, so costs can be summed per thread, agent,
channel and day. Which agent made a call travels the same way: the runner names the agent for the
duration of its run, and calls outside any agent's run are the router's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

ROUTER = "router"


@dataclass(frozen=True, kw_only=True)
class ModelCall:
    """One answered model call. `model` is what was asked for (`openai/gpt-4o-mini`);
    `response_model` what the provider says answered (`gpt-4o-mini-2024-07-18`)."""

    agent: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    response_model: str = ""


@dataclass
class Meter:
    calls: list[ModelCall] = field(default_factory=list)

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.calls)


_meter: ContextVar[Meter | None] = ContextVar("switchboard_meter", default=None)
_agent: ContextVar[str] = ContextVar("switchboard_agent", default=ROUTER)


@contextmanager
def metered() -> Iterator[Meter]:
    """Model calls made inside (in this task and the tasks it starts) are counted on one meter."""
    meter = Meter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


@contextmanager
def acting_as(agent: str) -> Iterator[None]:
    """Model calls made inside are that agent's."""
    token = _agent.set(agent)
    try:
        yield
    finally:
        _agent.reset(token)


def current_agent() -> str:
    return _agent.get()


def current() -> Meter | None:
    """The meter of the turn at hand, if any."""
    return _meter.get()


def record(call: ModelCall) -> None:
    """Count a call on the turn's meter; outside a turn (a CLI's one-off call) nothing counts."""
    meter = _meter.get()
    if meter is not None:
        meter.calls.append(call)
