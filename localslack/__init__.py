"""localslack: a Slack-compatible workspace on this machine.

It speaks only Slack's wire protocol (Web API, signed Events API requests, Socket Mode,
block_actions, slash commands, response_url, the external file upload), so a Bolt app and
slack_sdk clients run against it unchanged. It imports nothing of the project.

Typical test use::

    async with LocalSlack(LocalSlackConfig(ack_timeout=0.5)) as ls:
        client = AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)
        await ls.use_http("http://127.0.0.1:PORT/slack/events")
        ts = await ls.post("alice", "support", f"<@{ls.bot_user_id}> refund order 42")
        reply = await ls.wait_for_bot_message("support", thread_ts=ts)

For ``switchboard local``: ``ls = await serve("127.0.0.1", 3000)`` … ``await ls.stop()``.
"""

from .config import DeliveryMode, LocalSlackConfig, MessageShortcut, RateLimitRule
from .delivery import Delivery, DeliveryAttempt
from .demo import DEMO_APP, TEAM_ID, demo_workspace
from .errors import (
    LocalSlackError,
    UnknownEntityError,
    UrlVerificationError,
    WaitTimeoutError,
)
from .manifest import config_from_manifest
from .models import AppIdentity, Channel, User, Usergroup
from .ratelimit import RateLimitHit
from .scripting import LocalSlack, serve
from .signing import signature, verify
from .state import Workspace

__all__ = [
    "DEMO_APP",
    "TEAM_ID",
    "AppIdentity",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryMode",
    "LocalSlack",
    "LocalSlackConfig",
    "LocalSlackError",
    "MessageShortcut",
    "RateLimitHit",
    "RateLimitRule",
    "UnknownEntityError",
    "UrlVerificationError",
    "User",
    "Usergroup",
    "WaitTimeoutError",
    "Workspace",
    "config_from_manifest",
    "demo_workspace",
    "serve",
    "signature",
    "verify",
]
