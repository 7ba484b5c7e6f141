"""The Slack app manifest: what to create the app from, for Socket Mode or for HTTP.

`slack-app-manifest.json` at the top of the repository is `manifest()` (Socket Mode: no public
URL). For HTTP, `switchboard manifest --request-url https://HOST/slack/events` prints the same
app with that URL for events, interactivity and the slash command, and Socket Mode off.

It is written out here, not derived from the listeners, so that a test can hold the two against
each other (`tests/bot/test_manifest.py`): every event, shortcut and command the Bolt app
listens to is declared, every scope is needed by a Web API method or an event the code uses,
and nothing declared goes unused. The local workspace is configured from it too, so the
end-to-end tests only receive what a real workspace would send to this app.
"""

from __future__ import annotations

import json
from typing import Any

import click

NAME = "Switchboard"
DESCRIPTION = "Routes support requests to specialist agents; risky actions wait for approval."
LONG_DESCRIPTION = (
    "Switchboard is a chat-ops bot for support teams and on-call engineers. Every message that "
    "reaches it goes to a router, which picks a specialist: triage, billing, technical or "
    "escalation. Specialists answer with the help of tools; anything risky (a refund, a page, "
    "an incident) waits for an approver's click. Each thread keeps its own memory, and digests "
    "summarise the work on a schedule. Its Home tab lists what waits for your decision."
)
ASSISTANT = (
    "Ask about invoices, refunds, logins, outages or anything else your customers need: "
    "Switchboard hands it to the right specialist."
)

BOT_SCOPES = (
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "reactions:write",
    "usergroups:read",
    "users:read",
)
BOT_EVENTS = (
    "app_home_opened",
    "app_mention",
    "assistant_thread_started",
    "message.channels",
    "message.groups",
    "message.im",
)
COMMAND = {
    "command": "/switchboard",
    "description": "Approvals, status and digests: /switchboard help",
    "usage_hint": "[status | approve ID | reject ID reason | digest [name] | help]",
    "should_escape": False,
}
SHORTCUTS = (
    {
        "name": "Ask Switchboard",
        "type": "message",
        "callback_id": "ask_switchboard",
        "description": "Answer this message in its thread, as if I had been mentioned",
    },
)


def manifest(request_url: str | None = None) -> dict[str, Any]:
    """The app manifest; with `request_url`, the HTTP variant (Socket Mode off)."""
    command: dict[str, Any] = dict(COMMAND)
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        command["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "display_information": {
            "name": NAME,
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#3f0e40",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "switchboard", "always_online": True},
            "assistant_view": {"assistant_description": ASSISTANT, "suggested_prompts": []},
            "shortcuts": [dict(s) for s in SHORTCUTS],
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": not request_url,
            "token_rotation_enabled": False,
        },
    }


def manifest_text(request_url: str | None = None) -> str:
    """The manifest as the JSON file holds it."""
    return json.dumps(manifest(request_url), indent=2) + "\n"


@click.command("manifest")
@click.option(
    "--request-url",
    default=None,
    metavar="URL",
    help="HTTP mode: https://YOUR-HOST/slack/events (Socket Mode when left out).",
)
def manifest_command(request_url: str | None) -> None:
    """Print the Slack app manifest to create the app from (Socket Mode, or HTTP with a URL)."""
    if request_url is not None and not request_url.startswith(("https://", "http://")):
        raise click.BadParameter("must start with https://", param_hint="--request-url")
    click.echo(manifest_text(request_url), nl=False)
