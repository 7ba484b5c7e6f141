"""Slack's pacing of Web API calls: token buckets that answer 429 with Retry-After.

Slack documents chat.postMessage at about one message per second per channel, with short
bursts allowed. Rules come from the config; every refusal is recorded so a test can assert
that the app met the limit and backed off.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from .config import RateLimitRule


@dataclass(frozen=True, kw_only=True)
class RateLimitHit:
    """One refused call: which method, which bucket, and the Retry-After we sent."""

    method: str
    key: str
    at: float
    retry_after: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by method (and channel, for channel-scoped rules)."""

    def __init__(self, rules: dict[str, RateLimitRule], enabled: bool = True) -> None:
        self.rules = dict(rules)
        self.enabled = enabled
        self.hits: list[RateLimitHit] = []
        self._buckets: dict[str, _Bucket] = {}

    def check(self, method: str, channel: str | None) -> int | None:
        """Take a token for this call; None when allowed, else the Retry-After seconds."""
        rule = self.rules.get(method)
        if not self.enabled or rule is None or rule.per_second <= 0:
            return None
        key = f"{method}:{channel}" if rule.scope == "channel" else method
        now = time.monotonic()
        bucket = self._buckets.setdefault(key, _Bucket(tokens=float(rule.burst), updated=now))
        bucket.tokens = min(
            float(rule.burst), bucket.tokens + (now - bucket.updated) * rule.per_second
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / rule.per_second))
        self.hits.append(
            RateLimitHit(method=method, key=key, at=time.time(), retry_after=retry_after)
        )
        return retry_after

    def reset(self) -> None:
        """Forget all buckets and hits (between test cases)."""
        self._buckets.clear()
        self.hits.clear()
