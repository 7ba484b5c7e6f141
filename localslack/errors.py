"""Errors of localslack: one base, and the Web API failure that becomes a Slack-shaped answer."""

from __future__ import annotations

from typing import Any


class LocalSlackError(Exception):
    """Base of every error localslack raises to its caller (tests, the CLI)."""


class UnknownEntityError(LocalSlackError):
    """A user, channel or message named in a scripting call does not exist."""

    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(
            f"No {kind} {ref!r} in the local workspace. "
            f"Use an id (U0ALICE, C0SUPPORT) or a name (alice, #support) from workspace.summary()."
        )
        self.kind = kind
        self.ref = ref


class UrlVerificationError(LocalSlackError):
    """The request URL did not answer Slack's url_verification challenge."""


class WaitTimeoutError(LocalSlackError, TimeoutError):
    """A scripted wait (for a bot message, a delivery) ran out of time."""


class ApiCallError(Exception):
    """A Web API call that answers ``{"ok": false, "error": ...}``.

    Raised inside method handlers and turned into the response by the Web API router, so a
    handler reads as straight-line code. ``status`` is 200 for ordinary errors, as Slack does,
    and 429 for rate limiting; ``headers`` carries Retry-After; ``extra`` adds fields such as
    ``errors`` for invalid_blocks or ``response_metadata``.
    """

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would send."""
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> ApiCallError:
    """Slack's answer to a missing or malformed argument, with its response_metadata."""
    return ApiCallError(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] {m}" for m in messages]}},
    )
