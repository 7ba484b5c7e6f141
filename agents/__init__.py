"""Agents: the runtime (tools, the loop, the LLM layer), the offline model and the specialists.

litellm downloads its model price list when imported unless told to use the copy it ships; there
is no network here or on many servers, so the flag is set before any module of this package can
import litellm.

litellm also defines about 860 pydantic models when imported (its proxy's, every provider's), of
which a bot uses a few dozen. Pydantic builds each model's validator and serializer when the class
is defined unless the model defers it; deferred, a model is built the first time it is used. So
models defined from here on are deferred: measured with `bench/startup.py --turns 50`, the bot's
peak RSS drops by about 20 MB and `/readyz` comes 0.6 s sooner. The default lives in pydantic's
private `config_defaults`; a pydantic that moved it keeps building eagerly, which costs memory,
not correctness.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _defer_pydantic_builds() -> None:
    try:
        from pydantic._internal._config import config_defaults
    except ImportError:  # pragma: no cover - a pydantic without that module
        return
    if config_defaults.get("defer_build") is False:
        config_defaults["defer_build"] = True


_defer_pydantic_builds()
