"""What a failed Web API call means, whatever shape the failure came in.

slack_sdk reports failures in several shapes: a `SlackApiError` whose response holds Slack's
JSON, or a string (a text/plain body), or an empty dict (an HTML error page), or an aiohttp
response object (a body that claims JSON and is not); or an aiohttp error (a reset, a refused
connection), or a timeout. Callers need three answers from any of them: Slack's error code (or a
name for what happened), whether retrying can help, and whether Slack may have acted anyway, in
which case a post must be looked for before it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

# Slack refused the request for good: retrying sends the same refusal.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
        "invalid_arguments",
        "thread_not_found",
        "restricted_action",
    }
)
# Answers that prove Slack did not act on the request.
_NOT_DONE = PERMANENT | {"ratelimited", "rate_limited", "service_unavailable"}


@dataclass(frozen=True, kw_only=True)
class SlackFailure:
    code: str
    status: int | None = None
    retry_after: float | None = None
    maybe_done: bool = True  # Slack may have acted (posted) before the failure reached us

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT


def describe_failure(exc: BaseException) -> SlackFailure:
    if isinstance(exc, SlackApiError):
        return _api_error(exc.response)
    if isinstance(exc, aiohttp.ClientConnectorError):  # never connected: nothing was sent
        return SlackFailure(code="connection_refused", maybe_done=False)
    if isinstance(exc, aiohttp.ClientError):
        return SlackFailure(code=f"connection_{type(exc).__name__}")
    if isinstance(exc, TimeoutError):
        return SlackFailure(code="timeout")
    if isinstance(exc, OSError):
        return SlackFailure(code=f"network_{type(exc).__name__}")
    return SlackFailure(code=f"unexpected_{type(exc).__name__}")


def _api_error(response: Any) -> SlackFailure:
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    status = status if isinstance(status, int) else None
    data = getattr(response, "data", None)
    headers = getattr(response, "headers", None) or {}
    retry_after = _seconds(headers.get("Retry-After") if hasattr(headers, "get") else None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        code = data["error"]
    elif status == 429:
        code = "ratelimited"
    elif status is not None and status >= 500:
        code = f"http_{status}"
    elif not data:
        code = f"empty_body_http_{status}" if status else "empty_body"
    else:
        code = f"unexpected_body_http_{status}" if status else "unexpected_body"
    return SlackFailure(
        code=code, status=status, retry_after=retry_after, maybe_done=code not in _NOT_DONE
    )


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None
