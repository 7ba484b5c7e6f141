"""Web API methods that read: auth.test, conversations.*, users.info, usergroups.users.list.

conversations.list resolves a channel name to its id, as a bot on real Slack must before it
reads a channel's history (history takes ids only there; this server also accepts names).

Shapes follow the published spec's examples: history newest first, replies oldest first
(parent included), cursor pagination with ``has_more`` and ``response_metadata.next_cursor``,
and message ``metadata`` returned as stored.
"""

from __future__ import annotations

import base64

from .errors import ApiCallError, invalid_arguments
from .ids import ts_key
from .models import Channel, Json, Message, channel_json, user_json
from .spec import as_bool, as_int
from .state import Workspace
from .webapi import ApiCall, Method


def _encode_cursor(index: int) -> str:
    return base64.b64encode(f"next_index:{index}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(cursor.encode()).decode().partition(":")
        if kind != "next_index":
            raise ValueError(kind)
        return int(value)
    except ValueError:
        raise ApiCallError("invalid_cursor") from None


class ReadMethods:
    """Handlers for the read-only methods."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "auth.test": Method(self.auth_test),
            "conversations.history": Method(self.history),
            "conversations.replies": Method(self.replies),
            "conversations.info": Method(self.info),
            "conversations.list": Method(self.list),
            "users.info": Method(self.users_info),
            "usergroups.users.list": Method(self.usergroup_users),
        }

    async def auth_test(self, call: ApiCall) -> Json:
        """auth.test for the bot token: team, bot user and bot id (Bolt reads bot_id)."""
        app = self.ws.app
        return {
            "url": f"{self.ws.base_url}/",
            "team": self.ws.team_name,
            "user": app.bot_name,
            "team_id": self.ws.team_id,
            "user_id": app.bot_user_id,
            "bot_id": app.bot_id,
            "app_id": app.app_id,
            "is_enterprise_install": False,
        }

    def _readable(self, ref: str) -> Channel:
        if not ref:
            raise ApiCallError("channel_not_found")
        channel = self.ws.find_channel(ref)
        if channel is None:
            raise ApiCallError("channel_not_found")
        if self.ws.app.bot_user_id not in channel.members:
            raise ApiCallError("not_in_channel")
        return channel

    def _page(self, call: ApiCall, messages: list[Message], default_limit: int) -> Json:
        oldest_arg, latest_arg = call.str_arg("oldest"), call.str_arg("latest")
        low = ts_key(oldest_arg) if oldest_arg else None
        high = ts_key(latest_arg) if latest_arg else None
        inclusive = as_bool(call.args.get("inclusive"))

        def within(m: Message) -> bool:
            t = ts_key(m.ts)
            if low is not None and (t < low or (t == low and not inclusive)):
                return False
            return not (high is not None and (t > high or (t == high and not inclusive)))

        selected = [m for m in messages if within(m)]
        limit = max(1, min(as_int(call.args.get("limit"), default_limit), 1000))
        start = _decode_cursor(call.str_arg("cursor"))
        page = selected[start : start + limit]
        has_more = start + limit < len(selected)
        body: Json = {
            "messages": [self.ws.to_json(m) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": _encode_cursor(start + limit) if has_more else ""},
        }
        return body

    async def history(self, call: ApiCall) -> Json:
        """conversations.history: top-level messages, newest first."""
        channel = self._readable(call.str_arg("channel"))
        messages = list(reversed(self.ws.history(channel.id)))
        body = self._page(call, messages, 100)
        body["pin_count"] = 0
        body["channel_actions_count"] = 0
        return body

    async def replies(self, call: ApiCall) -> Json:
        """conversations.replies: the parent and its replies, oldest first."""
        channel = self._readable(call.str_arg("channel"))
        ts = call.str_arg("ts")
        if not ts:
            raise invalid_arguments("missing required field: ts")
        msg = self.ws.message(channel.id, ts)
        if msg is None:
            raise ApiCallError("thread_not_found")
        root = msg.thread_ts if msg.is_reply and msg.thread_ts else msg.ts
        return self._page(call, self.ws.thread(channel.id, root), 1000)

    async def info(self, call: ApiCall) -> Json:
        """conversations.info: the channel as the bot sees it."""
        channel = self.ws.find_channel(call.str_arg("channel"))
        if channel is None:
            raise ApiCallError("channel_not_found")
        history = self.ws.history(channel.id)
        latest = history[-1].ts if history else None
        return {"channel": channel_json(channel, self.ws.app.bot_user_id, latest)}

    async def list(self, call: ApiCall) -> Json:
        """conversations.list: channels of the requested `types` the bot can see, by id order."""
        kinds = {
            "public_channel": "channel",
            "private_channel": "group",
            "im": "im",
        }
        wanted = {
            kinds[t.strip()]
            for t in (call.str_arg("types") or "public_channel").split(",")
            if t.strip() in kinds
        }
        bot = self.ws.app.bot_user_id
        channels = [
            c
            for c in sorted(self.ws.channels.values(), key=lambda c: c.id)
            if c.kind in wanted and (c.kind == "channel" or bot in c.members)
        ]
        limit = max(1, min(as_int(call.args.get("limit"), 100), 1000))
        start = _decode_cursor(call.str_arg("cursor"))
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return {
            "channels": [channel_json(c, bot) for c in page],
            "response_metadata": {"next_cursor": _encode_cursor(start + limit) if more else ""},
        }

    async def users_info(self, call: ApiCall) -> Json:
        """users.info."""
        user = self.ws.users.get(call.str_arg("user"))
        if user is None:
            raise ApiCallError("user_not_found")
        return {"user": user_json(user, self.ws.team_id)}

    async def usergroup_users(self, call: ApiCall) -> Json:
        """usergroups.users.list: the member ids of a user group."""
        group = self.ws.usergroups.get(call.str_arg("usergroup"))
        if group is None:
            raise ApiCallError("no_such_subteam")
        return {"users": list(group.users)}
