"""What a failed model call means, by kind, so the LLM layer reacts to each as it deserves.

A bad key will not fix itself in a second: retrying it wastes the turn and hides the cause, so
it opens the model's breaker at once and tells the operator in one line. A rate limit or a 5xx is
worth another try after a pause. A bad request fails the same way every time (no retry), but is
about this request, not the provider, so it does not count against the breaker. A hang is cut
short by the turn's budget and counts as a failure. Messages from providers are never logged:
some echo part of the API key back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import litellm

Kind = Literal["auth", "not_found", "rate_limit", "server", "timeout", "bad_request", "unknown"]

_WHAT: dict[Kind, str] = {
    "auth": "the provider refused the credentials",
    "not_found": "the provider does not know this model",
    "rate_limit": "the provider is rate limiting us",
    "server": "the provider failed or could not be reached",
    "timeout": "the provider did not answer in time",
    "bad_request": "the provider refused this request as invalid",
    "unknown": "the call failed unexpectedly",
}


@dataclass(frozen=True, kw_only=True)
class ProviderFailure:
    kind: Kind
    status: int | None = None
    retry_after: float | None = None
    error: str = ""  # the exception's class name: safe to log, unlike its message

    @property
    def retry(self) -> bool:
        """Worth another try on the same model, after a pause."""
        return self.kind in ("rate_limit", "server")

    @property
    def trips(self) -> bool:
        """A configuration problem: stop asking this model until its breaker's cooldown ends."""
        return self.kind in ("auth", "not_found")

    @property
    def counts(self) -> bool:
        """Counts against the model's breaker (a bad request is about the request, not it)."""
        return self.kind != "bad_request"

    def describe(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{_WHAT[self.kind]}{status}"


def classify(exc: BaseException) -> ProviderFailure:
    """The kind of a failure raised by a model call (litellm's exceptions, or anything else)."""
    status = _status(exc)
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | litellm.exceptions.Timeout):
        return ProviderFailure(kind="timeout", status=None, retry_after=None, error=name)
    errors = litellm.exceptions
    kind: Kind
    if status in (401, 403, 404, 429):  # litellm maps some of these to BadRequestError
        kind = _by_status(status)
    elif isinstance(exc, errors.AuthenticationError | errors.PermissionDeniedError):
        kind = "auth"
    elif isinstance(exc, errors.NotFoundError):
        kind = "not_found"
    elif isinstance(exc, errors.RateLimitError):
        kind = "rate_limit"
    elif isinstance(exc, errors.BadRequestError | errors.UnprocessableEntityError):
        kind = "bad_request"
    elif isinstance(
        exc,
        errors.APIConnectionError
        | errors.ServiceUnavailableError
        | errors.InternalServerError
        | errors.BadGatewayError,
    ):
        kind = "server"
    else:
        kind = _by_status(status)
    return ProviderFailure(
        kind=kind,
        status=status,
        retry_after=_retry_after(exc) if kind == "rate_limit" else None,
        error=name,
    )


def _by_status(status: int | None) -> Kind:
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limit"
    if status is not None and status >= 500:
        return "server"
    if status is not None and 400 <= status < 500:
        return "bad_request"
    return "unknown"


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    """The provider's Retry-After, in seconds, when it sent one as a number."""
    headers: Any = getattr(exc, "litellm_response_headers", None) or getattr(
        getattr(exc, "response", None), "headers", None
    )
    if headers is None:
        return None
    try:
        value = float(headers.get("retry-after") or "")
    except (TypeError, ValueError, AttributeError):
        return None
    return value if value >= 0 else None


def fix_for(model: str, failure: ProviderFailure) -> str:
    """What an operator can do about a failure that retrying will not cure."""
    provider = model.split("/", 1)[0] if "/" in model else "the provider"
    if failure.kind == "auth":
        return (
            f"Check the {provider} API key litellm reads ({provider.upper()}_API_KEY) "
            "and what it may access"
        )
    if failure.kind == "not_found":
        return f"Check the model name {model} in SWITCHBOARD_MODEL or switchboard.toml"
    return ""
