"""What a model call cost, from litellm's price list (the copy shipped inside litellm).

litellm prices a whole answer itself, but not one rebuilt from a stream, so that one is priced
here from its usage. A model the list does not know (a retired alias, a local model) costs 0
and is said once in the log, rather than failing the turn or guessing a price.
"""

from __future__ import annotations

from typing import Any

import litellm
import structlog

log = structlog.stdlib.get_logger(__name__)

_unpriced: set[str] = set()


def cost_of(model: str, response: Any) -> float:
    """The US dollars litellm's price list gives for `response` (0.0 when it has no price)."""
    provider = model.split("/", 1)[0]
    if any(entry["provider"] == provider for entry in litellm.custom_provider_map):
        return 0.0  # a model of this process (the offline model): nothing to pay
    hidden = getattr(response, "_hidden_params", None) or {}
    known = hidden.get("response_cost")
    if isinstance(known, int | float):
        return float(known)
    try:
        return float(litellm.completion_cost(completion_response=response, model=model))
    except Exception as exc:  # litellm raises several kinds for "not in the price list"
        if model not in _unpriced:
            _unpriced.add(model)
            log.warning("llm.unpriced_model", model=model, error=type(exc).__name__)
        return 0.0
