"""Slack's v0 request signature, as the app verifies it.

``X-Slack-Signature: v0=`` + hex HMAC-SHA256(signing_secret, f"v0:{timestamp}:{body}") and
``X-Slack-Request-Timestamp``. Bolt rejects a request older than five minutes, so the
timestamp is always now.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for a body sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(signing_secret: str, body: bytes, content_type: str) -> dict[str, str]:
    """Headers for a signed request to the app, stamped with the current time."""
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(signing_secret, timestamp, body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def verify(signing_secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """True when ``given`` is the right signature (constant-time comparison)."""
    return hmac.compare_digest(signature(signing_secret, timestamp, body), given)
