"""Configuration of a localslack server: one frozen dataclass, read once, passed down.

Every timing Slack imposes (the 3 s ack window, the retry schedule, the posting pace) is a
field here, because tests need them short and `switchboard local` needs them real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DeliveryMode = Literal["none", "http", "socket"]
RateScope = Literal["channel", "method"]

# Slack retries a failed event about at once, then after 1 and after 5 minutes.
SLACK_RETRY_DELAYS: tuple[float, ...] = (0.0, 60.0, 300.0)

DEFAULT_EVENT_SUBSCRIPTIONS: tuple[str, ...] = (
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "app_home_opened",
    "assistant_thread_started",
)


@dataclass(frozen=True)
class MessageShortcut:
    """A message shortcut the app declared: it shows in every message's "More actions" menu."""

    callback_id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class RateLimitRule:
    """A token bucket: ``per_second`` calls refill, up to ``burst`` at once.

    ``scope="channel"`` keeps one bucket per (method, channel), as Slack paces
    chat.postMessage per channel; ``scope="method"`` keeps one bucket for the method.
    """

    per_second: float = 1.0
    burst: int = 2
    scope: RateScope = "channel"


def _default_rate_limits() -> dict[str, RateLimitRule]:
    return {
        "chat.postMessage": RateLimitRule(per_second=1.0, burst=2, scope="channel"),
        # Tier 4, for the whole workspace: about 100 a minute, with generous bursts.
        "chat.appendStream": RateLimitRule(per_second=100 / 60, burst=20, scope="method"),
    }


@dataclass(frozen=True, kw_only=True)
class LocalSlackConfig:
    """Everything that shapes how the fake workspace behaves.

    Attributes:
        host, port: where the aiohttp server listens; port 0 picks a free port (tests).
        public_host: the host written into URLs we hand out (upload URLs, response_url,
            the Socket Mode URL). Defaults to ``host`` (or 127.0.0.1 when host is 0.0.0.0).
        delivery: "http" posts signed requests to ``request_url``; "socket" queues Socket
            Mode envelopes for connected clients; "none" records events without sending.
        request_url: the app's Events API / interactivity / slash command URL (HTTP mode).
        ack_timeout: seconds the app has to answer (Slack: 3).
        retry_delays: delay before each retry of an unanswered event; its length is the
            number of retries (Slack: immediately, 1 min, 5 min).
        event_subscriptions: the bot events the app subscribed to; others are not sent.
        rate_limits: per-method pace; ``{}`` (or ``rate_limits_enabled=False``) turns it off.
        refresh_grace: seconds a Socket Mode connection stays open after we ask the client
            to refresh, so in-flight acks can still arrive on it (Slack: about 10).
        max_socket_connections: Slack allows 10 per app.
        response_url_uses: how often one response_url may be used (Slack: 5 in 30 min).
        slash_command: the command the app registered.
        message_shortcuts: the app's message shortcuts (name and callback_id).
        home_tab: the app has a Home tab (the page shows it).
        assistant: the app has the assistant view (the page offers the side panel).
        trigger_ttl: seconds a trigger_id may be used to open a modal (Slack: 3).
    """

    host: str = "127.0.0.1"
    port: int = 0
    public_host: str | None = None
    delivery: DeliveryMode = "none"
    request_url: str | None = None
    ack_timeout: float = 3.0
    retry_delays: tuple[float, ...] = SLACK_RETRY_DELAYS
    event_subscriptions: tuple[str, ...] = DEFAULT_EVENT_SUBSCRIPTIONS
    rate_limits: dict[str, RateLimitRule] = field(default_factory=_default_rate_limits)
    rate_limits_enabled: bool = True
    refresh_grace: float = 10.0
    max_socket_connections: int = 10
    response_url_uses: int = 5
    response_url_ttl: float = 30 * 60.0
    slash_command: str = "/switchboard"
    message_shortcuts: tuple[MessageShortcut, ...] = (
        MessageShortcut("ask_switchboard", "Ask Switchboard"),
    )
    home_tab: bool = True
    assistant: bool = True
    trigger_ttl: float = 3.0
    max_request_bytes: int = 64 * 1024 * 1024

    def url_host(self) -> str:
        """The host to put in URLs handed to clients."""
        if self.public_host:
            return self.public_host
        return "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104
