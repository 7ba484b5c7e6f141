"""Regenerate ``spec_params.json`` from Slack's published OpenAPI spec.

Run by hand when the method list changes::

    python -m localslack.spec_extract /path/to/slack_web_openapi_v2.json

The server never reads the spec itself (it is not shipped with the package): it reads the
small JSON file this script writes. Methods newer than the spec (Socket Mode, the external
file upload, the assistant API: setStatus, setSuggestedPrompts, setTitle; the chat.*Stream
methods) are described in ``EXTRA_METHODS`` from slack_sdk's client signatures and Slack's
method pages, and a few
arguments Slack added later (``metadata``) in ``EXTRA_ARGS``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

METHODS = (
    "auth.test",
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "chat.postEphemeral",
    "chat.getPermalink",
    "conversations.replies",
    "conversations.history",
    "conversations.info",
    "conversations.list",
    "users.info",
    "usergroups.users.list",
    "reactions.add",
    "reactions.remove",
    "views.publish",
    "views.open",
    "views.push",
    "views.update",
)

EXTRA_ARGS: dict[str, dict[str, str]] = {
    "chat.postMessage": {"metadata": "string"},
    "chat.update": {"metadata": "string", "reply_broadcast": "boolean", "file_ids": "string"},
    "chat.postEphemeral": {"metadata": "string"},
    "conversations.replies": {"include_all_metadata": "boolean"},
    "conversations.history": {"include_all_metadata": "boolean"},
}

EXTRA_METHODS: dict[str, dict[str, Any]] = {
    "files.getUploadURLExternal": {
        "required": ["filename", "length"],
        "args": {
            "filename": "string",
            "length": "integer",
            "alt_txt": "string",
            "snippet_type": "string",
        },
    },
    "files.completeUploadExternal": {
        "required": ["files"],
        "args": {
            "files": "string",
            "channel_id": "string",
            "channels": "string",
            "initial_comment": "string",
            "thread_ts": "string",
        },
    },
    "apps.connections.open": {"required": [], "args": {}},
    "assistant.threads.setSuggestedPrompts": {
        "required": ["channel_id", "prompts"],
        "args": {
            "channel_id": "string",
            "thread_ts": "string",
            "prompts": "array",
            "title": "string",
        },
    },
    "assistant.threads.setTitle": {
        "required": ["channel_id", "thread_ts", "title"],
        "args": {"channel_id": "string", "thread_ts": "string", "title": "string"},
    },
    "chat.startStream": {
        "required": ["channel", "thread_ts"],
        "args": {
            "channel": "string",
            "thread_ts": "string",
            "markdown_text": "string",
            "recipient_team_id": "string",
            "recipient_user_id": "string",
            "chunks": "array",
            "task_display_mode": "string",
            "icon_emoji": "string",
            "icon_url": "string",
            "username": "string",
        },
    },
    "chat.appendStream": {
        "required": ["channel", "ts"],
        "args": {"channel": "string", "ts": "string", "markdown_text": "string", "chunks": "array"},
    },
    "chat.stopStream": {
        "required": ["channel", "ts"],
        "args": {
            "channel": "string",
            "ts": "string",
            "markdown_text": "string",
            "blocks": "string",
            "metadata": "string",
            "chunks": "array",
            "session_status": "string",
        },
    },
    "assistant.threads.setStatus": {
        "required": ["channel_id", "thread_ts"],  # and `status`, which may be "" (it clears)
        "args": {
            "channel_id": "string",
            "thread_ts": "string",
            "status": "string",
            "loading_messages": "array",
            "icon_emoji": "string",
            "icon_url": "string",
            "username": "string",
        },
    },
}


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """Return {method: {"required": [...], "args": {name: type}}} for the methods we serve."""
    out: dict[str, Any] = {}
    for method in METHODS:
        ops = spec["paths"]["/" + method]
        op = next(iter(ops.values()))
        args: dict[str, str] = {}
        required: list[str] = []
        for param in op.get("parameters", []):
            name = param["name"]
            if name == "token":
                continue
            args[name] = param.get("type", "string")
            if param.get("required"):
                required.append(name)
        args.update(EXTRA_ARGS.get(method, {}))
        out[method] = {"required": sorted(required), "args": dict(sorted(args.items()))}
    out.update(EXTRA_METHODS)
    return dict(sorted(out.items()))


def main(argv: list[str]) -> None:
    """Read the spec named on the command line and write spec_params.json beside this file."""
    spec = json.loads(Path(argv[1]).read_text())
    target = Path(__file__).with_name("spec_params.json")
    target.write_text(json.dumps(extract(spec), indent=1) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv)
