"""Tokens and money of model calls: a plain value, apart from the LLM layer.

`router.turn` and the Slack side carry it without importing `agents.llm`, which imports
litellm (seconds), so a process can take in events before the model layer is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )
