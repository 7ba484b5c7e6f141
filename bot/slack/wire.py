"""What a request from Slack must look like before anything reads it.

Bolt and our listeners index into payloads (`body["actions"][0]`, `event.get(...)` on what must
be a dict); a signed request with a string where an object belongs, or an empty `actions` list,
would crash them and answer 500, which Slack retries and, if it happens often, holds against the
app. So the shape is checked once, here: only the kinds of request this app handles pass, with
the fields that code reads of the types it expects. Anything else is answered quietly (200,
logged with its event id), since retrying it would not make it any better.
"""

from __future__ import annotations

import re
from typing import Any

# The fields Bolt's context extraction and our code read, wherever they appear, and what each
# may hold. None (JSON null) is allowed where Slack sends it and readers test for it.
_STR = (str,)
_STRINGS = (
    "type",
    "subtype",
    "ts",
    "thread_ts",
    "event_ts",
    "deleted_ts",
    "message_ts",
    "event_id",
    "team_id",
    "user_id",
    "channel_id",
    "channel_type",
    "enterprise_id",
    "context_team_id",
    "context_enterprise_id",
    "bot_id",
    "user_team",
    "action_id",
    "block_id",
    "value",
    "action_ts",
    "trigger_id",
    "response_url",
    "command",
    "challenge",
    "api_app_id",
    "id",
    "name",
    "url_private",
    "mimetype",
    "filetype",
    "callback_id",
)
_SHAPES: dict[str, tuple[type, ...]] = {
    "event": (dict,),
    "message": (dict,),
    "previous_message": (dict,),
    "item": (dict,),
    "assistant_thread": (dict,),
    "function_data": (dict,),
    "view": (dict,),
    "container": (dict,),
    "user": (str, dict),
    "channel": (str, dict),
    "team": (str, dict),
    "enterprise": (str, dict),
    "authorizations": (list,),
    "response_urls": (list,),
    "actions": (list,),
    "files": (list,),
    "blocks": (list,),
    "text": (str, dict),  # a message's text, or a button's text object in an action
    "is_enterprise_install": (bool, str),
    "is_ext_shared_channel": (bool,),
    **dict.fromkeys(_STRINGS, _STR),
}
_NEVER_NULL = frozenset({"event", "type", "actions", "event_id", "command", "challenge"})
_LISTS_OF_OBJECTS = frozenset({"authorizations", "response_urls", "actions", "files"})
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
_CONVERSATIONAL = frozenset({"message", "app_mention"})
HANDLED = frozenset(
    {
        "event_callback",
        "url_verification",
        "block_actions",
        "message_action",
        "view_submission",
        "view_closed",
    }
)


def problem(body: Any) -> str | None:
    """Why a parsed request is not one this app can take as Slack sends it; None when it is."""
    if not isinstance(body, dict):
        return "the body is not an object"
    found = _shape(body, "", depth=0)
    if found is not None:
        return found
    if "command" in body:
        return None if body["command"].startswith("/") else "command does not start with /"
    if body.get("ssl_check") is not None:
        return None
    kind = body.get("type")
    if kind not in HANDLED:
        return f"type {str(kind)[:40]!r} is not handled here"
    if kind == "event_callback":
        return _event_problem(body)
    if kind == "block_actions":
        return _actions_problem(body)
    if kind in ("message_action", "view_submission", "view_closed"):
        return _interaction_problem(body)
    if kind == "url_verification" and "challenge" not in body:
        return "url_verification without a challenge"
    return None


def _shape(value: dict[str, Any], where: str, *, depth: int) -> str | None:
    for key, item in value.items():
        path = f"{where}{key}"
        if item is None:
            if key in _NEVER_NULL:
                return f"{path} is null"
            continue
        allowed = _SHAPES.get(key)
        if allowed is not None and not isinstance(item, allowed):
            kinds = " or ".join(t.__name__ for t in allowed)
            return f"{path} is a {type(item).__name__}, not a {kinds}"
        if depth >= 4:
            continue
        if isinstance(item, dict):
            found = _shape(item, f"{path}.", depth=depth + 1)
        elif key in _LISTS_OF_OBJECTS:
            found = _list_shape(item, path, depth=depth + 1)
        else:
            found = None
        if found is not None:
            return found
    return None


def _list_shape(items: list[Any], where: str, *, depth: int) -> str | None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return f"{where}[{index}] is a {type(item).__name__}, not an object"
        found = _shape(item, f"{where}[{index}].", depth=depth)
        if found is not None:
            return found
    return None


def _event_problem(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event_callback without an event type"
    if not body.get("event_id"):
        return "event_callback without an event_id"
    if event["type"] not in _CONVERSATIONAL:
        return None
    return conversation_problem(event)


def conversation_problem(event: dict[str, Any]) -> str | None:
    """A message or mention must say where it is: a channel and a Slack timestamp."""
    if event.get("subtype") in ("message_changed", "message_deleted"):
        return None if isinstance(event.get("channel"), str) else "edit without a channel"
    if not isinstance(event.get("channel"), str) or not event["channel"]:
        return "message without a channel"
    for key in ("ts", "thread_ts"):
        value = event.get(key)
        if (value is not None or key == "ts") and not (
            isinstance(value, str) and _TS.fullmatch(value)
        ):
            return f"message {key} is not a Slack timestamp"
    return None


def _actions_problem(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not actions:
        return "block_actions without actions"
    if any(not isinstance(a.get("action_id"), str) for a in actions):
        return "an action without an action_id"
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "block_actions without a user id"
    return None


def _interaction_problem(body: dict[str, Any]) -> str | None:
    """A shortcut on a message, or a modal submitted or closed: who, and on what."""
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return f"{body['type']} without a user id"
    if body["type"] == "message_action":
        channel, message = body.get("channel"), body.get("message")
        if not isinstance(channel, dict) or not isinstance(channel.get("id"), str):
            return "message_action without a channel id"
        if not isinstance(message, dict) or not isinstance(message.get("ts"), str):
            return "message_action without a message ts"
        return None if isinstance(body.get("callback_id"), str) else "message_action without id"
    view = body.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        return f"{body['type']} without a view callback_id"
    return None
