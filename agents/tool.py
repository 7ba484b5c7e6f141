"""Tools: what an agent can do, with validated arguments and a risk level set in code.

Risk is a property of the tool and its arguments, decided here and checked by the runner before
anything runs. Nothing the model or the user says can lower it: a high-risk call is never run
directly, it becomes an approval request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel


def compact_schema(schema: Any) -> Any:
    """A JSON schema without pydantic's `title` keys: models ignore them, and every character
    is sent on every model call."""
    if isinstance(schema, dict):
        return {
            k: compact_schema(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [compact_schema(v) for v in schema]
    return schema


class Risk(StrEnum):
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True, kw_only=True)
class Exposure:
    """Money a call would move: what approval limits on totals are summed from.

    A limit checked per call is beaten by splitting one refund into many small ones, so the
    runner adds up `major` over the turn, the `account` and the requester before anything runs.
    `major` is in major units of `currency` (what the limit is written in); `minor` and
    `currency` are for showing totals to approvers.
    """

    major: Decimal
    minor: int
    currency: str
    account: str
    limit: Decimal


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """What a tool knows about the turn it runs in. `idempotency_key` is stable across retries."""

    team_id: str
    channel: str
    thread_ts: str
    user_id: str
    idempotency_key: str
    agent: str = ""


A = TypeVar("A", bound=BaseModel)
ToolOutput = dict[str, Any]
# The kinds of change in the world a reply may only claim when a tool of that kind ran
# (see agents.claims).
Effect = Literal["money", "page", "incident", "ticket"]


@dataclass(frozen=True, kw_only=True)
class Tool(Generic[A]):
    """A function an agent may call. `risk` may depend on the arguments (a refund over a limit).

    `effect` names the kind of change the tool makes, so a reply cannot claim one no tool made.
    `idempotent` says a re-run under the same key finds the first effect instead of repeating
    it, so an approval interrupted by a restart may be run again. `required_approvals` asks for
    more than one approver for some arguments (a refund above a second limit).
    """

    name: str
    description: str
    args: type[A]
    run: Callable[[A, ToolContext], Awaitable[ToolOutput]]
    risk: Risk | Callable[[A], Risk] = Risk.LOW
    summarize: Callable[[A], str] | None = None
    # Tools that move money say how much and whose: limits then apply to totals (see Exposure).
    exposure: Callable[[A], Awaitable[Exposure]] | None = None
    effect: Effect | None = None
    idempotent: bool = False
    required_approvals: Callable[[A], int] | None = None

    def risk_of(self, arguments: A) -> Risk:
        return self.risk(arguments) if callable(self.risk) else self.risk

    def approvers_for(self, arguments: A) -> int:
        """How many people must approve this call: one unless the tool asks for more."""
        return 1 if self.required_approvals is None else self.required_approvals(arguments)

    def describe(self, arguments: A) -> str:
        """Plain words for an approval card: what will happen if someone says yes."""
        if self.summarize is not None:
            return self.summarize(arguments)
        shown = ", ".join(f"{k}={v}" for k, v in arguments.model_dump().items())
        return f"{self.name}({shown})"

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function definition litellm passes to every provider."""
        return self._schema

    @cached_property
    def _schema(self) -> dict[str, Any]:
        # Built once: pydantic's schema generation costs about 0.1 ms a tool, on every turn.
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": compact_schema(self.args.model_json_schema()),
            },
        }

    def parse(self, raw: dict[str, Any]) -> A:
        return self.args.model_validate(raw)
