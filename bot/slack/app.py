"""The Bolt app: listeners, the intake middleware, and the `/switchboard` command.

Listeners for conversation do nothing but let Bolt acknowledge: the work was queued by the
intake middleware before the ack. A catch-all answers every other event with a quiet 200, so
Slack never retries an event just because nothing here wanted it; so does a request of a shape
Slack does not send (`bot.slack.wire`), before any listener can trip over it.

Bolt learns who the bot is from the identity `auth.test` gave at start-up, not from an
`auth.test` of its own on the first request: that call, failing during a Slack outage, would
answer the event "please install this app" and lose it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from agents.mentions import defang
from bot.slack import wire
from bot.slack.intake import Intake
from bot.slack.render import escape

log = structlog.stdlib.get_logger(__name__)

CommandHandler = Callable[[str, str, str], Awaitable[str]]

HELP = """*Switchboard* sends your message to the right specialist: \
triage, billing, technical or escalation.
• Mention me in a channel (`@Switchboard my invoice is wrong`), reply in my threads, or DM me.
• Risky actions (refunds, paging on-call, incidents) wait for an approver's click.
• `/switchboard status`: what is waiting right now.
• `/switchboard digest [name] [window]`: post a digest now.
• `/switchboard approve ID`, `/switchboard reject ID [reason]`: decide an approval.
• `/switchboard help`: this message."""


async def reject_malformed(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """A quiet 200 for what Slack would never send (HTTP checks this before Bolt; Socket Mode
    envelopes arrive here)."""
    problem = wire.problem(body)
    if problem is not None:
        event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
        log.warning("intake.malformed", event_id=event_id, problem=problem)
        return BoltResponse(status=200, body="")
    await next()
    return None


def create_app(
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
    intake: Intake,
    commands: dict[str, CommandHandler],
    identity: dict[str, Any],
    actions: dict[str | re.Pattern[str], Callable[..., Awaitable[Any]]] | None = None,
    surfaces: Callable[[AsyncApp], None] | None = None,
    ready: Callable[[], Awaitable[None]] | None = None,
) -> AsyncApp:
    """The app, with every listener in its final order from the first second.

    `commands` may be filled in later: a command waits for `ready` (the loaded bot) after its
    ack, so one sent while the bot starts is answered a few seconds late, not lost.
    """

    app = _bolt_app(client, signing_secret, identity)
    app.middleware(reject_malformed)
    app.middleware(intake)

    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    app.event("app_mention")(acknowledge)
    app.event("message")(acknowledge)

    for action_id, handler in (actions or {}).items():
        app.action(action_id)(handler)

    @app.command(re.compile(r"^/switchboard"))
    async def switchboard_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        words = str(command.get("text") or "").split()
        name = words[0].lower() if words else "help"
        if name != "help" and ready is not None:
            await ready()
        handler = commands.get(name)
        if handler is None:
            # The response URL is not the Web API client: what echoes the user is escaped here.
            unknown = f"Unknown command `{escape(name)}`.\n\n{HELP}"
            await respond(text=HELP if name == "help" else unknown)
            return
        text = await handler(
            " ".join(words[1:]), str(command.get("user_id")), str(command.get("channel_id"))
        )
        await respond(text=defang(text, getattr(client, "allowed_groups", ())))

    if surfaces is not None:
        surfaces(app)  # Home, assistant, shortcut, modals: before the catch-alls, which match all

    app.event(re.compile(".*"))(acknowledge)
    app.action(re.compile(".*"))(acknowledge)
    return app


def _bolt_app(
    client: AsyncWebClient, signing_secret: str | None, identity: dict[str, Any]
) -> AsyncApp:
    """Bolt, authorized as the bot it already knows (no OAuth round trip per event)."""

    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or identity.get("team_id"),
            bot_user_id=identity.get("user_id"),
            bot_id=identity.get("bot_id"),
            bot_token=client.token,
            user_id=user_id,
        )

    # Bolt takes the token from `authorize`; a client holding one too only earns a warning.
    tokenless = AsyncWebClient(
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        retry_handlers=list(client.retry_handlers),
    )
    app = AsyncApp(
        client=tokenless,
        signing_secret=signing_secret,
        authorize=authorize,
        # Socket Mode has no signatures; HTTP requests are verified here and in bot.slack.http.
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
    )
    return app
