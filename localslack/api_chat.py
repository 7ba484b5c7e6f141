"""Web API methods that write: chat.*, reactions.*, assistant.threads.setStatus.

Checks mirror Slack's: the bot must be in the conversation (``not_in_channel``), text is at
most 40,000 characters (``msg_too_long``), blocks must pass Block Kit validation
(``invalid_blocks`` with ``errors``), and ``chat.update`` with text but no blocks removes the
blocks. ``metadata`` ({event_type, event_payload}) is stored and returned by the read methods.
"""

from __future__ import annotations

from typing import Any

from .actions import Actions
from .blocks import validate_blocks, with_block_ids
from .errors import ApiCallError, invalid_arguments
from .models import Channel, Json, Message
from .state import Workspace
from .webapi import ApiCall, Method

MAX_TEXT = 40_000


class ChatMethods:
    """Handlers for the chat, reactions and assistant methods."""

    def __init__(self, workspace: Workspace, actions: Actions) -> None:
        self.ws = workspace
        self.actions = actions

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "chat.postMessage": Method(self.post_message),
            "chat.update": Method(self.update),
            "chat.delete": Method(self.delete),
            "chat.postEphemeral": Method(self.post_ephemeral),
            "chat.getPermalink": Method(self.get_permalink),
            "reactions.add": Method(self.reactions_add),
            "reactions.remove": Method(self.reactions_remove),
            "assistant.threads.setStatus": Method(self.set_status),
        }

    # ----- shared checks -----------------------------------------------------------------
    def bot_channel(self, ref: str) -> Channel:
        """A conversation the bot is in, or the error Slack gives."""
        channel = self.ws.find_channel(ref)
        if channel is None:
            raise ApiCallError("channel_not_found")
        if self.ws.app.bot_user_id not in channel.members:
            raise ApiCallError("not_in_channel")
        return channel

    def bot_message(self, channel: Channel, ts: str) -> Message:
        """A message the bot may change (it posted it)."""
        msg = self.ws.message(channel.id, ts)
        if msg is None:
            raise ApiCallError("message_not_found")
        if msg.user != self.ws.app.bot_user_id:
            raise ApiCallError("cant_update_message")
        return msg

    @staticmethod
    def content(call: ApiCall, *, require: bool = True) -> tuple[str, list[Json] | None]:
        """Validated (text, blocks) of a post or update."""
        text = call.str_arg("text")
        blocks: Any = call.args.get("blocks")
        if len(text) > MAX_TEXT:
            raise ApiCallError("msg_too_long")
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                raise ApiCallError(
                    "invalid_blocks",
                    extra={
                        "errors": errors,
                        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                    },
                )
            blocks = with_block_ids(blocks) if blocks else None
        if require and not text and not blocks and not call.args.get("attachments"):
            raise ApiCallError("no_text")
        return text, blocks

    @staticmethod
    def metadata(call: ApiCall) -> Json | None:
        """The message metadata, checked for Slack's shape."""
        meta = call.args.get("metadata")
        if meta is None:
            return None
        if not isinstance(meta, dict) or not isinstance(meta.get("event_type"), str):
            raise ApiCallError("invalid_metadata_format")
        payload = meta.get("event_payload", {})
        if not isinstance(payload, dict):
            raise ApiCallError("invalid_metadata_format")
        return {"event_type": meta["event_type"], "event_payload": payload}

    # ----- chat --------------------------------------------------------------------------
    async def post_message(self, call: ApiCall) -> Json:
        """chat.postMessage: post as the bot, top-level or in a thread."""
        channel = self.bot_channel(call.str_arg("channel"))
        text, blocks = self.content(call)
        metadata = self.metadata(call)
        thread_ts = call.str_arg("thread_ts") or None
        if thread_ts is not None and self.ws.message(channel.id, thread_ts) is None:
            raise ApiCallError("thread_not_found")
        msg = self.actions.bot_post(
            channel.id, text, blocks=blocks, thread_ts=thread_ts, metadata=metadata
        )
        return {"channel": channel.id, "ts": msg.ts, "message": self.ws.to_json(msg)}

    async def update(self, call: ApiCall) -> Json:
        """chat.update: replace text (and blocks; text alone removes them)."""
        channel = self.bot_channel(call.str_arg("channel"))
        msg = self.bot_message(channel, call.str_arg("ts"))
        text, blocks = self.content(call, require=False)
        if not text and blocks is None and "blocks" not in call.args:
            raise ApiCallError("no_text")
        metadata = self.metadata(call)
        if metadata is not None:
            msg.metadata = metadata
        self.actions.bot_update(msg, text, blocks)
        body = self.ws.to_json(msg)
        return {"channel": channel.id, "ts": msg.ts, "text": msg.text, "message": body}

    async def delete(self, call: ApiCall) -> Json:
        """chat.delete: the bot deletes its message."""
        channel = self.bot_channel(call.str_arg("channel"))
        msg = self.bot_message(channel, call.str_arg("ts"))
        self.actions.bot_delete(msg)
        return {"channel": channel.id, "ts": msg.ts}

    async def post_ephemeral(self, call: ApiCall) -> Json:
        """chat.postEphemeral: a message only one member of the channel sees."""
        channel = self.bot_channel(call.str_arg("channel"))
        user_id = call.str_arg("user")
        if user_id not in self.ws.users:
            raise ApiCallError("user_not_found")
        if user_id not in channel.members:
            raise ApiCallError("user_not_in_channel")
        text, blocks = self.content(call)
        eph = self.ws.post_ephemeral(
            channel.id,
            user_id,
            text,
            sender=self.ws.app.bot_user_id,
            blocks=blocks,
            thread_ts=call.str_arg("thread_ts") or None,
        )
        return {"message_ts": eph.ts}

    async def get_permalink(self, call: ApiCall) -> Json:
        """chat.getPermalink: a link to the message on the web page."""
        channel = self.ws.find_channel(call.str_arg("channel"))
        if channel is None:
            raise ApiCallError("channel_not_found")
        ts = call.str_arg("message_ts")
        msg = self.ws.message(channel.id, ts)
        if msg is None:
            raise ApiCallError("message_not_found")
        link = f"{self.ws.base_url}/archives/{channel.id}/p{ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # ----- reactions and assistant status ------------------------------------------------
    async def reactions_add(self, call: ApiCall) -> Json:
        """reactions.add as the bot."""
        return self._react(call, add=True)

    async def reactions_remove(self, call: ApiCall) -> Json:
        """reactions.remove as the bot."""
        return self._react(call, add=False)

    def _react(self, call: ApiCall, *, add: bool) -> Json:
        channel = self.bot_channel(call.str_arg("channel"))
        msg = self.ws.message(channel.id, call.str_arg("timestamp"))
        if msg is None:
            raise ApiCallError("message_not_found")
        name = call.str_arg("name").strip(":")
        if not name:
            raise invalid_arguments("missing required field: name")
        if not self.ws.react(msg, self.ws.app.bot_user_id, name, add=add):
            raise ApiCallError("already_reacted" if add else "no_reaction")
        return {}

    async def set_status(self, call: ApiCall) -> Json:
        """assistant.threads.setStatus: "is thinking…" under a thread ("" clears it)."""
        if call.args.get("status") is None:
            raise invalid_arguments("missing required field: status")
        channel = self.bot_channel(call.str_arg("channel_id"))
        thread_ts = call.str_arg("thread_ts")
        if self.ws.message(channel.id, thread_ts) is None:
            raise ApiCallError("thread_not_found")
        self.ws.set_status(channel.id, thread_ts, call.str_arg("status"))
        return {}
