"""From a Slack event to a `Turn`: which events are conversation, and where the reply goes.

Direct messages at the top level share one memory per DM (the conversation is the DM) and are
answered at the top level; everything else is keyed by its thread and answered in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from router.turn import Turn

DM_THREAD = "dm"
_IGNORED_SUBTYPES = frozenset(
    {"bot_message", "channel_join", "channel_leave", "channel_topic", "channel_purpose"}
)

# A person's words: a plain message, a reply also sent to the channel, a message with files.
_SPOKEN = frozenset({None, "thread_broadcast", "file_share"})

Kind = Literal["turn", "edit", "delete", "ignore"]


@dataclass(frozen=True)
class Classified:
    kind: Kind
    event: dict[str, Any]


def classify(event: dict[str, Any]) -> Classified:
    """What an event means to the bot. Bots (including ourselves) are never conversation."""
    if event.get("bot_id") or event.get("subtype") in _IGNORED_SUBTYPES:
        return Classified("ignore", event)
    if event.get("type") == "app_mention":
        return Classified("turn", event)
    if event.get("type") != "message":
        return Classified("ignore", event)
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return Classified("edit", event)
    if subtype == "message_deleted":
        return Classified("delete", event)
    if subtype in _SPOKEN and event.get("user") and ("text" in event or event.get("files")):
        return Classified("turn", event)
    return Classified("ignore", event)


def is_dm(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def memory_thread(event: dict[str, Any]) -> str:
    """The key of the conversation an event belongs to."""
    if is_dm(event) and not event.get("thread_ts"):
        return DM_THREAD
    return str(event.get("thread_ts") or event["ts"])


def reply_thread(turn: Turn) -> str | None:
    return None if turn.thread_ts == DM_THREAD else turn.thread_ts


def turn_of(payload: dict[str, Any], bot_user_id: str, attached: str = "") -> Turn:
    """The turn an event starts; `attached` says what files came with it."""
    event = payload["event"]
    text = re.sub(rf"<@{re.escape(bot_user_id)}>\s*", "", str(event.get("text") or "")).strip()
    text = "\n\n".join(part for part in (text, attached) if part)
    return Turn(
        team_id=str(payload.get("team_id") or event.get("team") or ""),
        channel=str(event["channel"]),
        thread_ts=memory_thread(event),
        user_id=str(event.get("user") or ""),
        text=text,
        ts=str(event["ts"]),
        event_id=str(payload["event_id"]),
    )
