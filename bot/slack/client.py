"""The one Web API client, and its last check before anything is written to Slack.

No mass mention the code did not mean leaves the bot.

Replies, cards, pages and digests escape user- and model-written text where they are composed
(`bot.slack.render`). This client is the backstop for every Web API call that writes text, wherever
it was composed: any `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` or `@channel` word
still in the payload is disarmed, except the user groups the configuration names (the on-call
group the Slack pager mentions, approver groups). A disarmed mention is logged, because it means
some composition forgot to escape.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import aiohttp
import structlog
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from agents.mentions import defang
from bot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

WRITES = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.scheduleMessage",
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
        "chat.meMessage",
        "views.publish",
        "views.open",
        "views.update",
        "views.push",
        "files.completeUploadExternal",
        "files.upload",
        "assistant.threads.setTitle",
        "assistant.threads.setStatus",
        "assistant.threads.setSuggestedPrompts",
    }
)


def disarm(value: Any, allowed_groups: Collection[str]) -> Any:
    """Every string in a JSON-like value, with unintended special mentions disarmed."""
    if isinstance(value, str):
        return defang(value, allowed_groups)
    if isinstance(value, dict):
        return {k: disarm(v, allowed_groups) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [disarm(v, allowed_groups) for v in value]
    return value


class GuardedWebClient(AsyncWebClient):
    """`AsyncWebClient` whose writes cannot carry a mass mention the code did not mean."""

    def __init__(self, *args: Any, allowed_groups: Collection[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_groups = frozenset(allowed_groups)

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        if api_method in WRITES:
            clean = [
                disarm(part, self.allowed_groups) if isinstance(part, dict) else part
                for part in (data, params, json)
            ]
            if clean != [data, params, json]:
                log.warning("slack.mention_disarmed", method=api_method)
            data, params, json = clean
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )


def intended_groups(settings: Settings) -> set[str]:
    """The user groups the bot's own code may mention: on-call, and the approvers it names."""
    file = settings.file
    rules = [
        file.approvals.default,
        *file.approvals.agents.values(),
        *file.approvals.tools.values(),
    ]
    groups = {group for rule in rules for group in rule.groups}
    if file.escalation.oncall_usergroup:
        groups.add(file.escalation.oncall_usergroup)
    return groups


def slack_client(
    settings: Settings, session: aiohttp.ClientSession | None = None, *, posting: bool = False
) -> AsyncWebClient:
    """The Web API client; with a session it reuses connections instead of one per call.

    Every write through it is checked for mass mentions the code did not mean (GuardedWebClient).
    The `posting` client (the outbox sender's) does not retry a call after a reset connection,
    as slack_sdk does by default: the post may have landed, and resending it blind would post
    it twice. The sender retries itself, after looking for the post in Slack.
    """
    token = settings.env.slack_bot_token
    client = GuardedWebClient(
        token=token.get_secret_value() if token else None,
        base_url=settings.env.slack_api_url,
        timeout=15,
        session=session,
        retry_handlers=[] if posting else None,
        allowed_groups=intended_groups(settings),
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return client
