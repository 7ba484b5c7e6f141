"""Button clicks, slash commands and their response_url, as Slack sends and honours them.

A click becomes a ``block_actions`` payload and a slash command its form fields; both carry a
``response_url`` that the app may POST to (up to 5 times in 30 minutes) with
``replace_original``, ``delete_original`` or ``response_type: ephemeral|in_channel``. A slash
command's direct answer (the HTTP body, or the Socket Mode ack payload) is handled the same
way. When the app does not answer in time, the user sees the error Slack would show.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .actions import ActionError, Actions
from .blocks import find_action
from .config import LocalSlackConfig
from .delivery import Delivery, Dispatcher
from .ids import trigger_id
from .models import Ephemeral, Json, Message
from .state import Workspace
from .views import Views

SLACKBOT = "USLACKBOT"


@dataclass(kw_only=True)
class ResponseTarget:
    """Where a response_url's answers go: the channel, the user, the original message."""

    channel: str
    user: str
    thread_ts: str | None
    message: Message | None
    ephemeral: Ephemeral | None
    expires: float
    uses_left: int


class Interactivity:
    """Builds interaction payloads, sends them, and serves the response_urls."""

    def __init__(
        self,
        workspace: Workspace,
        config: LocalSlackConfig,
        dispatcher: Dispatcher,
        actions: Actions,
        views: Views,
    ) -> None:
        self.ws = workspace
        self.config = config
        self.dispatcher = dispatcher
        self.actions = actions
        self.views = views
        self.targets: dict[str, ResponseTarget] = {}
        dispatcher.on_settled.append(self._on_settled)

    # ----- clicks ------------------------------------------------------------------------
    def click(
        self,
        user_ref: str,
        channel_ref: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
    ) -> Delivery:
        """A person clicks the button ``action_id`` on a message (or their ephemeral)."""
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        msg, eph = self._source(user.id, channel.id, message_ts)
        blocks = (msg.blocks if msg else eph.blocks if eph else None) or []
        found = find_action(blocks, action_id)
        if found is None:
            raise ActionError(f"No element with action_id {action_id!r} on that message.")
        block_id, element = found
        thread_ts = msg.thread_ts if msg else eph.thread_ts if eph else None
        target = self.new_target(channel.id, user.id, thread_ts, msg, eph)
        payload = self._block_actions(user.id, channel.id, msg, message_ts)
        payload["actions"] = [action_json(element, block_id, value)]
        return self.dispatcher.send("interactive", self.with_url(payload, target))

    def _source(
        self, user_id: str, channel_id: str, ts: str
    ) -> tuple[Message | None, Ephemeral | None]:
        msg = self.ws.message(channel_id, ts)
        if msg is not None:
            return msg, None
        for eph in self.ws.visible_ephemerals(user_id, channel_id):
            if eph.ts == ts:
                return None, eph
        raise ActionError(f"No message {ts} in {channel_id} that this person can see.")

    def _block_actions(self, user_id: str, channel_id: str, msg: Message | None, ts: str) -> Json:
        """The block_actions payload, less its ``actions`` and ``response_url``."""
        user = self.ws.users[user_id]
        channel = self.ws.channels[channel_id]
        container: Json = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": msg is None,
        }
        if msg is not None and msg.thread_ts:
            container["thread_ts"] = msg.thread_ts
        payload: Json = {
            "type": "block_actions",
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.ws.team_id,
            },
            "api_app_id": self.ws.app.app_id,
            "token": self.ws.app.verification_token,
            "container": container,
            "trigger_id": self.views.issue_trigger(trigger_id(), user.id),
            "team": {"id": self.ws.team_id, "domain": self.ws.domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel.id, "name": channel.name},
            "state": {"values": {}},
        }
        if msg is not None:
            payload["message"] = self.ws.to_json(msg)
        return payload

    # ----- slash commands ----------------------------------------------------------------
    def slash(
        self, user_ref: str, channel_ref: str, text: str, command: str | None = None
    ) -> Delivery:
        """A person runs ``/switchboard text`` in a channel."""
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        target = self.new_target(channel.id, user.id, None, None, None)
        form: Json = {
            "token": self.ws.app.verification_token,
            "team_id": self.ws.team_id,
            "team_domain": self.ws.domain,
            "channel_id": channel.id,
            "channel_name": channel.name if channel.kind != "im" else "directmessage",
            "user_id": user.id,
            "user_name": user.name,
            "command": command or self.config.slash_command,
            "text": text,
            "api_app_id": self.ws.app.app_id,
            "is_enterprise_install": "false",
            "trigger_id": self.views.issue_trigger(trigger_id(), user.id),
        }
        return self.dispatcher.send("slash_command", self.with_url(form, target))

    # ----- response_url ------------------------------------------------------------------
    def new_target(
        self,
        channel: str,
        user: str,
        thread_ts: str | None,
        msg: Message | None,
        eph: Ephemeral | None,
    ) -> str:
        """A response_url target: where the app's answers to one interaction go."""
        key = uuid.uuid4().hex
        self.targets[key] = ResponseTarget(
            channel=channel,
            user=user,
            thread_ts=thread_ts,
            message=msg,
            ephemeral=eph,
            expires=time.time() + self.config.response_url_ttl,
            uses_left=self.config.response_url_uses,
        )
        return key

    def with_url(self, payload: Json, key: str) -> Json:
        """Add the response_url the app may answer on (clicks and shortcuts, commands)."""
        kind = "commands" if "command" in payload else "actions"
        url = f"{self.ws.base_url}/hooks/{kind}/{self.ws.team_id}/{key}"
        payload["response_url"] = url
        return payload

    async def handle_response_url(self, request: web.Request) -> web.Response:
        """POST /hooks/{kind}/{team}/{key}: the app answers a click or a command."""
        target = self.targets.get(request.match_info["key"])
        if target is None or target.expires < time.time():
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        if target.uses_left <= 0:
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        target.uses_left -= 1
        self.apply(target, body)
        return web.json_response({"ok": True})

    def apply(self, target: ResponseTarget, body: dict[str, Any]) -> None:
        """Do what a response body asks: delete, replace, or post ephemeral / in channel."""
        text = str(body.get("text", ""))
        blocks = body.get("blocks")
        if body.get("delete_original"):
            self._delete_original(target)
            return
        if body.get("replace_original"):
            self._replace_original(target, text, blocks)
            return
        thread_ts = body.get("thread_ts") or target.thread_ts
        if body.get("response_type") == "in_channel":
            self.actions.bot_post(target.channel, text, blocks=blocks, thread_ts=thread_ts)
        else:
            self.ws.post_ephemeral(
                target.channel,
                target.user,
                text,
                sender=self.ws.app.bot_user_id,
                blocks=blocks,
                thread_ts=thread_ts,
            )

    def _delete_original(self, target: ResponseTarget) -> None:
        if target.ephemeral is not None:
            self.ws.remove_ephemeral(target.ephemeral)
        elif target.message is not None and not target.message.deleted:
            self.actions.bot_delete(target.message)

    def _replace_original(self, target: ResponseTarget, text: str, blocks: Any) -> None:
        if target.ephemeral is not None:
            self.ws.replace_ephemeral(target.ephemeral, text, blocks)
        elif target.message is not None and not target.message.deleted:
            self.actions.bot_update(target.message, text, blocks)

    def _on_settled(self, delivery: Delivery) -> None:
        if delivery.kind not in ("slash_command", "interactive"):
            return
        key = str(delivery.payload.get("response_url", "")).rsplit("/", 1)[-1]
        target = self.targets.get(key)
        if target is None:
            return
        if delivery.state == "acked" and delivery.kind == "slash_command" and delivery.response:
            self.apply(target, delivery.response)
        elif delivery.state in ("failed", "dropped"):
            what = delivery.payload.get("command") if delivery.kind == "slash_command" else None
            self.ws.post_ephemeral(
                target.channel,
                target.user,
                f'{what or "That action"} failed with the error "{_failure_code(delivery)}"',
                sender=SLACKBOT,
                thread_ts=target.thread_ts,
            )


def _failure_code(delivery: Delivery) -> str:
    """The error Slack shows a person when the app did not answer their command or click."""
    if delivery.state == "dropped" or not delivery.attempts:
        return "dispatch_failed"
    error = delivery.attempts[-1].error
    if error in ("http_timeout", "timeout"):
        return "operation_timeout"
    if error == "http_error":
        return "http_service_error"
    return "dispatch_failed"


def action_json(element: Json, block_id: str, value: str | None) -> Json:
    """One entry of ``actions``: what was clicked, with the value from the blocks."""
    action: Json = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if "text" in element:
        action["text"] = element["text"]
    if value is not None or "value" in element:
        action["value"] = value if value is not None else element["value"]
    if "style" in element:
        action["style"] = element["style"]
    return action
