"""An app manifest (Slack's format) turned into the configuration of the local workspace.

Real Slack delivers only what the app's manifest subscribes to and shows only the surfaces it
declares. Configured from the same manifest, the local workspace does the same: an event left
out of ``settings.event_subscriptions.bot_events`` is never sent, a shortcut left out of
``features.shortcuts`` is not in the menu, and without ``features.assistant_view`` there is
no assistant panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .config import LocalSlackConfig, MessageShortcut


def config_from_manifest(
    manifest: Mapping[str, Any], base: LocalSlackConfig | None = None
) -> LocalSlackConfig:
    """``base`` with the events, command, shortcuts and surfaces the manifest declares."""
    features = manifest.get("features") or {}
    settings = manifest.get("settings") or {}
    events = (settings.get("event_subscriptions") or {}).get("bot_events") or []
    commands = [c["command"] for c in features.get("slash_commands") or []]
    shortcuts = tuple(
        MessageShortcut(s["callback_id"], s["name"], s.get("description", ""))
        for s in features.get("shortcuts") or []
        if s.get("type") == "message"
    )
    config = base or LocalSlackConfig()
    return replace(
        config,
        event_subscriptions=tuple(events),
        slash_command=commands[0] if commands else config.slash_command,
        message_shortcuts=shortcuts,
        home_tab=bool((features.get("app_home") or {}).get("home_tab_enabled")),
        assistant="assistant_view" in features,
    )
