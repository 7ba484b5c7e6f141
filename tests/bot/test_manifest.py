"""The app manifest against what the code registers and calls.

The Bolt app is the real one (`running()` against the local workspace); its listeners are read
from Bolt's own matchers, and the Web API methods the code calls from its source. Every event,
shortcut and command listened to is declared; every scope is needed by a method or an event
the code uses; nothing declared goes unused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import running
from bot.slack.client import WRITES
from bot.slack.manifest import manifest, manifest_text
from localslack import LocalSlack, LocalSlackConfig
from tests.helpers.harness import settings_for

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "agents", "router", "storage")

# slack_sdk method -> (Web API methods, the bot scopes any of which it needs). From Slack's
# method pages; conversations.* need the scope of the conversation's kind.
METHODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "auth_test": (("auth.test",), ()),
    "chat_postMessage": (("chat.postMessage",), ("chat:write",)),
    "chat_postEphemeral": (("chat.postEphemeral",), ("chat:write",)),
    "chat_update": (("chat.update",), ("chat:write",)),
    "chat_startStream": (("chat.startStream",), ("chat:write",)),
    "chat_appendStream": (("chat.appendStream",), ("chat:write",)),
    "chat_stopStream": (("chat.stopStream",), ("chat:write",)),
    # Accepted with chat:write in channel threads since March 2026; assistant:write elsewhere.
    "assistant_threads_setStatus": (("assistant.threads.setStatus",), ("assistant:write",)),
    "chat_getPermalink": (("chat.getPermalink",), ()),
    "conversations_history": (("conversations.history",), ("channels:history", "groups:history")),
    "conversations_replies": (
        ("conversations.replies",),
        ("channels:history", "groups:history", "im:history"),
    ),
    "conversations_info": (("conversations.info",), ("channels:read", "groups:read", "im:read")),
    "conversations_list": (("conversations.list",), ("channels:read", "groups:read")),
    "reactions_add": (("reactions.add",), ("reactions:write",)),
    "reactions_remove": (("reactions.remove",), ("reactions:write",)),
    "users_info": (("users.info",), ("users:read",)),
    "usergroups_users_list": (("usergroups.users.list",), ("usergroups:read",)),
    "files_info": (("files.info",), ("files:read",)),
    "files_upload_v2": (
        ("files.getUploadURLExternal", "files.completeUploadExternal"),
        ("files:write",),
    ),
    "views_publish": (("views.publish",), ()),
    "views_open": (("views.open",), ()),
    "assistant_threads_setSuggestedPrompts": (
        ("assistant.threads.setSuggestedPrompts",),
        ("assistant:write",),
    ),
    "assistant_threads_setTitle": (("assistant.threads.setTitle",), ("assistant:write",)),
}
EVENT_SCOPES = {
    "app_mention": ("app_mentions:read",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "app_home_opened": (),
    "assistant_thread_started": ("assistant:write",),
}
TEXT_WRITES = {"chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish"}
TEXT_WRITES |= {"views.open", "files.completeUploadExternal", "assistant.threads.setTitle"}
TEXT_WRITES |= {"assistant.threads.setSuggestedPrompts"}


def registrations(app: AsyncApp) -> list[tuple[str, Any]]:
    """(kind, constraint) of every listener, from Bolt's built-in matchers: the kind is the
    matcher factory (`event`, `action`, `view_submission`, `message_shortcut`, `command`)."""

    def inner(func: Callable[..., Any]) -> list[Any]:
        found: list[Any] = []
        for cell in func.__closure__ or ():
            value = cell.cell_contents
            if callable(value) and getattr(value, "__closure__", None) is not None:
                found += [value.__qualname__.split(".<locals>")[0], *inner(value)]
            else:
                found.append(value)
        return found

    out = []
    for listener in app._async_listeners:
        kind, constraint, *_ = inner(listener.matchers[0].func)  # type: ignore[attr-defined]
        out.append((str(kind), constraint))
    return out


def catch_all(constraint: Any) -> bool:
    return isinstance(constraint, re.Pattern) and bool(constraint.fullmatch("anything_at_all"))


def used_methods() -> set[str]:
    """Names of AsyncWebClient methods called anywhere in the product's source."""
    names: set[str] = set()
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            for name in re.findall(r"client\.([a-z][A-Za-z0-9_]+)", path.read_text()):
                if callable(getattr(AsyncWebClient, name, None)) and name != "api_call":
                    names.add(name)
    return names


async def test_the_manifest_declares_what_the_app_listens_to_and_needs(
    sqlite_url: str, tmp_path: Path
) -> None:
    declared = manifest()
    assert (ROOT / "slack-app-manifest.json").read_text() == manifest_text(), (
        "slack-app-manifest.json is out of date: run `switchboard manifest > slack-app-manifest.json`"
    )
    async with (
        LocalSlack(LocalSlackConfig()) as slack,
        running(settings_for(slack, sqlite_url, tmp_path), upgrade_database=True) as board,
    ):
        listened = registrations(board.app)

    events = {c for k, c in listened if k == "event" and not catch_all(c)}
    assert all(isinstance(c, str) or catch_all(c) for k, c in listened if k == "event")
    expanded = {e for c in events for e in (_message_events() if c == "message" else (c,))}
    bot_events = declared["settings"]["event_subscriptions"]["bot_events"]
    assert expanded == set(bot_events)

    features = declared["features"]
    shortcuts = {c for k, c in listened if k in ("message_shortcut", "shortcut")}
    assert shortcuts == {s["callback_id"] for s in features["shortcuts"]}
    assert all(s["type"] == "message" for s in features["shortcuts"])
    commands = [c for k, c in listened if k == "command"]
    names = [c["command"] for c in features["slash_commands"]]
    assert all(any(re.fullmatch(_pattern(c), n) for c in commands) for n in names)
    assert all(any(re.fullmatch(_pattern(c), n) for n in names) for c in commands)
    interactive = {"action", "block_action", "view_submission", "message_shortcut", "shortcut"}
    assert declared["settings"]["interactivity"]["is_enabled"] == any(
        k in interactive for k, _ in listened
    )
    assert features["app_home"]["home_tab_enabled"] == ("app_home_opened" in events)
    assert ("assistant_view" in features) == ("assistant_thread_started" in events)

    used = used_methods()
    assert used <= set(METHODS), f"add the scopes of {used - set(METHODS)} to METHODS"
    needed = {"commands"} if names else set()
    for name in used:
        web_methods, scopes = METHODS[name]
        needed |= set(scopes)
        assert all(m not in TEXT_WRITES or m in WRITES for m in web_methods), name
    for event in bot_events:
        needed |= set(EVENT_SCOPES[event])
    assert set(declared["oauth_config"]["scopes"]["bot"]) == needed


def _message_events() -> tuple[str, ...]:
    return ("message.channels", "message.groups", "message.im")


def _pattern(constraint: Any) -> str:
    if isinstance(constraint, re.Pattern):
        return str(constraint.pattern) + ".*"
    return re.escape(str(constraint))


def test_the_manifest_keeps_slacks_limits_and_the_http_variant_points_everything_at_one_url() -> (
    None
):
    declared = manifest()
    info = declared["display_information"]
    assert len(info["name"]) <= 35 and len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    for shortcut in declared["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
    assert declared["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in json.dumps(declared)

    http = manifest("https://bot.example.com/slack/events")
    settings = http["settings"]
    assert settings["socket_mode_enabled"] is False
    urls = {
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in http["features"]["slash_commands"]),
    }
    assert urls == {"https://bot.example.com/slack/events"}
