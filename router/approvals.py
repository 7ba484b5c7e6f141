"""Who may approve which call, and for how long a request stays open (from switchboard.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Approvers:
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    required: int = 1


@dataclass(frozen=True, kw_only=True)
class ApprovalRules:
    default: Approvers = Approvers()
    by_agent: dict[str, Approvers] = field(default_factory=dict)
    by_tool: dict[str, Approvers] = field(default_factory=dict)
    expires_after: timedelta = timedelta(hours=4)

    def for_call(self, agent: str, tool: str) -> Approvers:
        """The most specific rule wins: the tool's, then the agent's, then the default."""
        return self.by_tool.get(tool) or self.by_agent.get(agent) or self.default
