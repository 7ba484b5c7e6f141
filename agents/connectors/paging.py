"""Paging on-call: one `Pager` interface, through PagerDuty or through a Slack channel.

The escalation agent pages a person when an incident needs one; the page runs only after a
human approved it, and carries a ``dedup_key`` (the approval's idempotency key) so that a
retried page updates the same incident instead of waking someone twice. PagerDuty
deduplicates on that key itself; a Slack page shows it, so people can tie messages together.

`PagerDutyPager` speaks the Events API v2 directly with aiohttp (one POST; no SDK needed).
`SlackPager` posts to an on-call channel through `Notifier`, the narrow interface that ``bot/``
implements: agents never import Slack code, they are handed something that can post. A Slack
channel does not deduplicate, so the Slack pager tags its post with the dedup key and, before
posting, looks for a post with that tag: a page re-run after a crash (the process died while
Slack held the post) finds the first instead of waking someone twice.
Failures raise `PagingError` with a message that says what to do, because a page that
silently did not go out is the worst outcome this module can have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import aiohttp

from agents.connectors import ConnectorError
from agents.mentions import defang

__all__ = [
    "SEVERITIES",
    "Notifier",
    "PageResult",
    "Pager",
    "PagerDutyPager",
    "PagingError",
    "Severity",
    "SlackPager",
    "slack_page_text",
]

Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "info")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

_SUMMARY_LIMIT = 1024  # PagerDuty's limit on payload.summary
_DEDUP_LIMIT = 255  # PagerDuty's limit on dedup_key
_DETAIL_CHARS = 300
_EMOJI = {
    "critical": ":rotating_light:",
    "error": ":red_circle:",
    "warning": ":warning:",
    "info": ":information_source:",
}
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


@dataclass(frozen=True, slots=True)
class PageResult:
    """Where the page went: ``reference`` is PagerDuty's dedup key or the Slack message ts."""

    provider: str
    reference: str
    detail: str


class PagingError(ConnectorError):
    """The page did not go out (or we cannot tell); the message says what to do instead."""

    def __init__(self, provider: str, detail: str) -> None:
        self.provider = provider
        self.detail = detail
        super().__init__(f"Could not page on-call through {provider}: {detail}")


class Pager(Protocol):
    """Something that can wake the on-call person."""

    async def page(
        self,
        summary: str,
        severity: Severity,
        source: str,
        dedup_key: str,
        details: Mapping[str, object] | None = None,
    ) -> PageResult:
        """Trigger a page; raise `PagingError` if it may not have reached anyone.

        At most once per ``dedup_key``: a second call with the same key (a re-run after a
        crash) must not wake anyone again.
        """
        ...


class Notifier(Protocol):
    """What ``bot/`` lets an agent do in Slack: post to a channel, find its own earlier post."""

    async def post(self, channel: str, text: str, key: str) -> str:
        """Post ``text`` (mrkdwn) to ``channel`` tagged with ``key``; return the message's ts."""
        ...

    async def find(self, channel: str, key: str) -> str | None:
        """The ts of a recent post in ``channel`` tagged with ``key``, if there is one."""
        ...


def _check(summary: str, severity: str, dedup_key: str) -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}; got {severity!r}")
    if not summary.strip():
        raise ValueError("a page needs a summary: say what is broken")
    if not dedup_key.strip() or len(dedup_key) > _DEDUP_LIMIT:
        raise ValueError(f"dedup_key must be 1 to {_DEDUP_LIMIT} characters")


class PagerDutyPager:
    """`Pager` through the PagerDuty Events API v2 of the service with ``routing_key``.

    A 202 answer means PagerDuty accepted the event; its ``dedup_key`` comes back as the
    reference. The routing key is a secret: it never appears in errors or results.
    """

    def __init__(
        self, routing_key: str, url: str = PAGERDUTY_EVENTS_URL, *, timeout: float = 10.0
    ) -> None:
        if not routing_key.strip():
            raise ValueError(
                "PagerDuty needs a routing key: the Integration Key of an Events API v2 "
                "integration on the on-call service."
            )
        self._routing_key = routing_key.strip()
        self._url = url
        self._timeout = timeout

    async def page(
        self,
        summary: str,
        severity: Severity,
        source: str,
        dedup_key: str,
        details: Mapping[str, object] | None = None,
    ) -> PageResult:
        """See `Pager.page`."""
        _check(summary, severity, dedup_key)
        event = {
            "routing_key": self._routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": summary[:_SUMMARY_LIMIT],
                "source": source,
                "severity": severity,
                "custom_details": dict(details or {}),
            },
        }
        body = json.dumps(event, default=str)
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    self._url, data=body, headers={"Content-Type": "application/json"}
                ) as response,
            ):
                status, text = response.status, await response.text()
        except TimeoutError as exc:
            raise PagingError(
                "PagerDuty", f"no answer within {self._timeout:g} s; call the on-call person"
            ) from exc
        except aiohttp.ClientError as exc:
            raise PagingError(
                "PagerDuty", f"could not reach {self._url} ({exc}); call the on-call person"
            ) from exc
        answer = _json_object(text)
        if status == 202:
            reference = str(answer.get("dedup_key") or dedup_key)
            return PageResult("pagerduty", reference, str(answer.get("message") or "accepted"))
        raise PagingError("PagerDuty", _explain(status, answer, text))


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _explain(status: int, answer: dict[str, Any], text: str) -> str:
    """PagerDuty's error answer, in words: its message and the list of what was invalid."""
    if status == 429:
        return "PagerDuty is rate limiting events (HTTP 429); try again in a minute"
    if status >= 500:
        return f"PagerDuty answered HTTP {status}; try again, or call the on-call person"
    message = str(answer.get("message") or " ".join(text.split())[:200] or "no reason given")
    errors = answer.get("errors")
    if isinstance(errors, list) and errors:
        message += ": " + "; ".join(str(e) for e in errors)
    hint = " (check the routing key setting)" if status in (400, 404) else ""
    return f"PagerDuty rejected the event (HTTP {status}): {message}{hint}"


def _escape(text: str) -> str:
    """Slack mrkdwn escaping (``&``, ``<``, ``>``) and ``@here``-style words disarmed: the page
    mentions the on-call group it means, and nobody the summary or details name."""
    return defang(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def slack_page_text(
    summary: str,
    severity: Severity,
    source: str,
    dedup_key: str,
    details: Mapping[str, object] | None = None,
    usergroup: str | None = None,
) -> str:
    """The page as a Slack message: severity first and loud, then who, what and the details.

    Example::

        :rotating_light: *CRITICAL page* <!subteam^S0ONCALL> API 5xx rate above 20%
        Source: `switchboard/escalation` · Dedup key: `approval-42`
        • *incident:* INC-7
    """
    mention = f" <!subteam^{usergroup}>" if usergroup else ""
    lines = [
        f"{_EMOJI[severity]} *{severity.upper()} page*{mention} {_escape(summary)}",
        f"Source: `{_escape(source)}` · Dedup key: `{_escape(dedup_key)}`",
    ]
    for key, value in (details or {}).items():
        shown = str(value)
        if len(shown) > _DETAIL_CHARS:
            shown = shown[: _DETAIL_CHARS - 1] + "…"
        lines.append(f"• *{_escape(str(key))}:* {_escape(shown)}")
    return "\n".join(lines)


class SlackPager:
    """`Pager` that posts the page to an on-call ``channel``, mentioning ``usergroup``.

    ``usergroup`` is the ID of a Slack user group (``S0123ABCD``, not its @handle): the
    mention notifies everyone in it, which is what makes a channel post a page.
    """

    def __init__(self, notifier: Notifier, channel: str, usergroup: str | None = None) -> None:
        if usergroup is not None and not _USERGROUP_ID.fullmatch(usergroup):
            raise ValueError(
                f"usergroup must be a Slack user group ID such as S0123ABCD, not {usergroup!r}"
            )
        self._notifier = notifier
        self._channel = channel
        self._usergroup = usergroup

    async def page(
        self,
        summary: str,
        severity: Severity,
        source: str,
        dedup_key: str,
        details: Mapping[str, object] | None = None,
    ) -> PageResult:
        """See `Pager.page`."""
        _check(summary, severity, dedup_key)
        text = slack_page_text(summary, severity, source, dedup_key, details, self._usergroup)
        try:
            earlier = await self._notifier.find(self._channel, dedup_key)
        except Exception as exc:  # cannot tell whether it went out: do not risk a second page
            raise PagingError(
                "Slack", f"could not check {self._channel} for an earlier page: {exc}"
            ) from exc
        if earlier is not None:
            return PageResult("slack", earlier, f"posted in {self._channel} (found, not repeated)")
        try:
            reference = await self._notifier.post(self._channel, text, dedup_key)
        except Exception as exc:  # any notifier failure means nobody was paged
            raise PagingError("Slack", f"posting to {self._channel} failed: {exc}") from exc
        return PageResult("slack", reference, f"posted in {self._channel}")


if TYPE_CHECKING:  # mypy checks here that both classes implement the interface
    _pagers: tuple[type[Pager], ...] = (PagerDutyPager, SlackPager)
