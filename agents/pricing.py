"""What a model call cost, in US dollars: configured prices first, then litellm's price map.

litellm ships a price list for the hosted models (read from the installed package: the
`LITELLM_LOCAL_MODEL_COST_MAP` the entry points set keeps it from downloading one). Self-hosted
and fine-tuned models are not on it, so `switchboard.toml` can price any model string under
`[models.prices."<model>"]`; a configured price wins over litellm's. A model priced nowhere
costs 0, and the first call to it logs one line saying how to price it, so totals are never
silently wrong without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import litellm
import structlog

log = structlog.stdlib.get_logger(__name__)

OFFLINE_PREFIX = "offline/"
_unpriced: set[str] = set()  # models already reported, so the line is logged once a process


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens, as providers list them."""

    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


def cost_of(
    model: str,
    response: Any,
    input_tokens: int,
    output_tokens: int,
    prices: Mapping[str, Price],
) -> float:
    """The cost of one answered call to `model` (the model string as configured)."""
    if model.startswith(OFFLINE_PREFIX):
        return 0.0
    configured = prices.get(model)
    if configured is not None:
        return configured.cost(input_tokens, output_tokens)
    # litellm prices the answer by the model that gave it (a dated snapshot, cached tokens).
    hidden = getattr(response, "_hidden_params", None) or {}
    if hidden.get("response_cost") is not None:
        return float(hidden["response_cost"])
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=input_tokens, completion_tokens=output_tokens
        )
    except Exception:  # litellm: "This model isn't mapped yet", or an unknown provider
        if model not in _unpriced:
            _unpriced.add(model)
            log.warning(
                "llm.unpriced_model",
                model=model,
                fix=f'add [models.prices."{model}"] with input_per_million and '
                "output_per_million (USD) to switchboard.toml",
            )
        return 0.0
    return float(prompt + completion)
