"""An agent: instructions, its own tools, a model, and the offline policy that stands in for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.offline import OfflinePolicy, install_policy
from agents.tool import Tool

# Every specialist's prompt ends with this: people write in their own language, and a real
# model can answer in it (the offline model's replies are English templates, and say so).
IN_THEIR_LANGUAGE = (
    "- Answer in the language the user wrote their message in (Spanish to Spanish, German to "
    "German), whatever the language of the tools' results; keep ids, invoice numbers and "
    "amounts exactly as the tools return them."
)


@dataclass(frozen=True)
class SuggestedPrompt:
    """Something to ask this agent, offered to people who do not know where to start (the
    assistant panel's suggested prompts): a short title and the message it sends."""

    title: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Agent:
    name: str
    description: str
    instructions: str
    tools: tuple[Tool[Any], ...]
    policy: OfflinePolicy
    model: str | None = None  # None: the offline model
    suggestion: SuggestedPrompt | None = None

    def __post_init__(self) -> None:
        install_policy(self.name, self.policy)

    @property
    def offline_model(self) -> str:
        return f"offline/{self.name}"

    @property
    def active_model(self) -> str:
        return self.model or self.offline_model

    def tool(self, name: str) -> Tool[Any] | None:
        """Only this agent's own tools: a name from another agent is not found here."""
        return next((t for t in self.tools if t.name == name), None)
