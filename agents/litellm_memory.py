"""What litellm holds in memory that a bot answering with the offline model never reads.

Measured with `bench/startup.py --turns 50 --no-encoder` (peak RSS of `switchboard run`):

- litellm hands every custom provider its default tokenizer (tiktoken's cl100k_base, about
  32 MB once built) whether or not the provider counts tokens; the offline model does not. A
  stand-in takes its place and builds the real one the first time anything reads it, then
  puts the real one back, so a real provider that counts tokens gets the same tokenizer.
- `litellm.utils` parses its bundled Anthropic tokenizer (about 14 MB of Python objects) only
  to serialise it again into a string, and keeps both; only the string is read afterwards.

Both are reached through litellm's private names, so each step checks the name is there and
does nothing otherwise: a litellm that moved them costs memory, not correctness.
"""

from __future__ import annotations

import threading
from typing import Any

import litellm
import litellm.main
import litellm.utils

CACHE = "_encoding_cache"  # litellm.main's memo of its default tokenizer (litellm 1.105)


class LazyEncoding:
    """litellm's default tokenizer, built on first use instead of on the first completion."""

    def __init__(self) -> None:
        self._real: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._real is None:
                from litellm._lazy_imports import _get_default_encoding

                self._real = _get_default_encoding()
                if getattr(litellm.main, CACHE, None) is self:
                    setattr(litellm.main, CACHE, self._real)  # later calls get the real one
            return self._real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._load(), name)


def release() -> None:
    """Apply both savings; idempotent, and harmless if litellm already built the tokenizer."""
    if hasattr(litellm.main, CACHE) and getattr(litellm.main, CACHE) is None:
        setattr(litellm.main, CACHE, LazyEncoding())
    vars(litellm.utils).pop("json_data", None)
