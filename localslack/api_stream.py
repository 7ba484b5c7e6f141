"""Streamed messages: chat.startStream, chat.appendStream, chat.stopStream.

A stream is a bot message in a thread whose text grows: startStream creates it (a reply in the
thread, so the thread's status clears, as when the bot posts), each appendStream adds
``markdown_text`` to it, stopStream adds the last text, the blocks shown under it and its
metadata, and ends it. Checks mirror Slack's: ``thread_ts`` is required; outside a DM the
person being answered must be named (``missing_recipient_team_id``,
``missing_recipient_user_id``); a message not streaming answers
``message_not_in_streaming_state``; at most 12,000 characters of text per call
(``msg_too_long``). While it streams, the message's markdown block ends with a caret, so the
web page shows the text growing; the caret is not part of its text.
"""

from __future__ import annotations

from typing import Any

from .actions import Actions
from .api_chat import ChatMethods
from .blocks import validate_blocks, with_block_ids
from .errors import ApiCallError
from .models import Json, Message
from .state import Workspace
from .webapi import ApiCall, Method

MAX_MARKDOWN = 12_000
CARET = " ▍"


class StreamMethods:
    """Handlers for the three stream methods; ``streaming`` holds the messages still open."""

    def __init__(self, workspace: Workspace, actions: Actions, chat: ChatMethods) -> None:
        self.ws = workspace
        self.actions = actions
        self.chat = chat
        self.streaming: set[tuple[str, str]] = set()

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "chat.startStream": Method(self.start),
            "chat.appendStream": Method(self.append),
            "chat.stopStream": Method(self.stop),
        }

    @staticmethod
    def markdown(call: ApiCall) -> str:
        """The text of a call: ``markdown_text``, then any markdown_text chunks."""
        parts = [call.str_arg("markdown_text")]
        chunks: Any = call.args.get("chunks") or []
        if not isinstance(chunks, list):
            raise ApiCallError("invalid_chunks")
        for chunk in chunks:
            if not isinstance(chunk, dict) or not chunk.get("type"):
                raise ApiCallError("invalid_chunks")
            if chunk["type"] == "markdown_text":
                parts.append(str(chunk.get("text") or ""))
        text = "".join(parts)
        if len(text) > MAX_MARKDOWN:
            raise ApiCallError("msg_too_long")
        return text

    async def start(self, call: ApiCall) -> Json:
        """chat.startStream: a new bot reply in the thread, streaming."""
        channel = self.chat.bot_channel(call.str_arg("channel"))
        thread_ts = call.str_arg("thread_ts")
        if self.ws.message(channel.id, thread_ts) is None:
            raise ApiCallError("thread_not_found")
        if channel.kind != "im":
            if not call.str_arg("recipient_team_id"):
                raise ApiCallError("missing_recipient_team_id")
            if not call.str_arg("recipient_user_id"):
                raise ApiCallError("missing_recipient_user_id")
            if call.str_arg("recipient_user_id") not in self.ws.users:
                raise ApiCallError("user_not_found")
        text = self.markdown(call)
        msg = self.actions.bot_post(
            channel.id, text, blocks=self._blocks(text, open_=True), thread_ts=thread_ts
        )
        self.streaming.add((channel.id, msg.ts))
        return {"channel": channel.id, "ts": msg.ts}

    async def append(self, call: ApiCall) -> Json:
        """chat.appendStream: more text at the end of a streaming message."""
        msg = self._open(call)
        text = self.markdown(call)
        if not text:
            raise ApiCallError("no_text")
        full = msg.text + text
        self.actions.bot_update(msg, full, self._blocks(full, open_=True))
        return {"channel": msg.channel, "ts": msg.ts}

    async def stop(self, call: ApiCall) -> Json:
        """chat.stopStream: the last text, blocks under it and metadata; streaming ends."""
        msg = self._open(call)
        text = msg.text + self.markdown(call)
        extra: Any = call.args.get("blocks") or []
        if extra:
            errors = validate_blocks(extra)
            if errors:
                raise ApiCallError("invalid_blocks", extra={"errors": errors})
            extra = with_block_ids(extra)
        metadata = self.chat.metadata(call)
        if metadata is not None:
            msg.metadata = metadata
        self.streaming.discard((msg.channel, msg.ts))
        self.actions.bot_update(msg, text, [*self._blocks(text, open_=False), *extra])
        return {"channel": msg.channel, "ts": msg.ts, "message": self.ws.to_json(msg)}

    def _open(self, call: ApiCall) -> Message:
        channel = self.chat.bot_channel(call.str_arg("channel"))
        msg = self.chat.bot_message(channel, call.str_arg("ts"))
        if (channel.id, msg.ts) not in self.streaming:
            raise ApiCallError("message_not_in_streaming_state")
        return msg

    @staticmethod
    def _blocks(text: str, *, open_: bool) -> list[Json]:
        return [{"type": "markdown", "text": text + (CARET if open_ else "")}]
