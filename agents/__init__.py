"""Agents: the runtime (tools, the loop, the LLM layer), the offline model and the specialists.

litellm downloads its model price list when imported unless told to use the copy it ships; there
is no network here or on many servers, so the flag is set before any module of this package can
import litellm.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
