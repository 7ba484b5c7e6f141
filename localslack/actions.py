"""What people and the bot do in the workspace, and the events each deed sends to the app.

The web page, the scripting API and the Web API handlers all come through here, so a message
typed in the browser and one posted by a test cause exactly the same events.
"""

from __future__ import annotations

from .errors import LocalSlackError
from .events import EventSource
from .models import Json, Message
from .state import Workspace


class ActionError(LocalSlackError):
    """A person tried something Slack would not let them do (e.g. post where not a member)."""


class Actions:
    """Posting, editing, deleting and reacting, for people and for the bot."""

    def __init__(self, workspace: Workspace, events: EventSource) -> None:
        self.ws = workspace
        self.events = events

    # ----- people ------------------------------------------------------------------------
    def user_post(
        self,
        user_ref: str,
        channel_ref: str,
        text: str,
        thread_ts: str | None = None,
        *,
        broadcast: bool = False,
        file_ids: list[str] | None = None,
    ) -> Message:
        """A person posts (optionally in a thread, optionally "also send to the channel", and
        optionally with files); the app gets the events Slack would send."""
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        if user.id not in channel.members:
            raise ActionError(f"{user.name} is not a member of #{channel.name}.")
        if not text.strip() and not file_ids:
            raise ActionError("A message needs some text.")
        if thread_ts is not None and self.ws.message(channel.id, thread_ts) is None:
            raise ActionError(f"No message {thread_ts} in #{channel.name} to reply to.")
        if broadcast and thread_ts is None:
            raise ActionError("Only a reply in a thread can also be sent to the channel.")
        parent = self.ws.message(channel.id, thread_ts) if thread_ts else None
        root = parent.thread_ts if parent is not None and parent.is_reply else thread_ts
        subtype = "file_share" if file_ids else "thread_broadcast" if broadcast else None
        msg = self.ws.post(
            channel.id, user.id, text, thread_ts=root, file_ids=file_ids, subtype=subtype
        )
        self.events.message_posted(msg)
        return msg

    def user_upload(
        self,
        user_ref: str,
        channel_ref: str,
        name: str,
        data: bytes,
        text: str = "",
        thread_ts: str | None = None,
    ) -> Message:
        """A person shares a file with a message (``file_share``)."""
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        record = self.ws.new_file(user.id, name, len(data), "")
        record.data, record.completed = data, True
        record.channels.append(channel.id)
        return self.user_post(user_ref, channel_ref, text, thread_ts, file_ids=[record.id])

    def user_edit(self, user_ref: str, channel_ref: str, ts: str, text: str) -> Message:
        """A person edits their own message; the app gets ``message_changed``."""
        user = self.ws.user(user_ref)
        msg = self._own_message(user.id, channel_ref, ts)
        previous = self.ws.to_json(msg)
        self.ws.update(msg, text=text, blocks=None, edited_by=user.id)
        self.events.message_changed(msg, previous)
        return msg

    def user_delete(self, user_ref: str, channel_ref: str, ts: str) -> None:
        """A person deletes their own message; the app gets ``message_deleted``."""
        user = self.ws.user(user_ref)
        msg = self._own_message(user.id, channel_ref, ts)
        previous = self.ws.to_json(msg)
        self.ws.delete(msg)
        self.events.message_deleted(msg, previous)

    def react(self, user_ref: str, channel_ref: str, ts: str, name: str, add: bool = True) -> None:
        """A person adds or removes an emoji reaction."""
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        msg = self.ws.message(channel.id, ts)
        if msg is None:
            raise ActionError(f"No message {ts} in #{channel.name}.")
        if self.ws.react(msg, user.id, name.strip(":"), add=add):
            self.events.reaction(msg, user.id, name.strip(":"), add)

    def _own_message(self, user_id: str, channel_ref: str, ts: str) -> Message:
        channel = self.ws.channel(channel_ref)
        msg = self.ws.message(channel.id, ts)
        if msg is None:
            raise ActionError(f"No message {ts} in #{channel.name}.")
        if msg.user != user_id:
            raise ActionError("People can only edit or delete their own messages.")
        return msg

    # ----- the bot -----------------------------------------------------------------------
    def bot_post(
        self,
        channel_id: str,
        text: str,
        *,
        blocks: list[Json] | None = None,
        thread_ts: str | None = None,
        metadata: Json | None = None,
        file_ids: list[str] | None = None,
        subtype: str | None = None,
    ) -> Message:
        """The bot posts; like Slack, its own message comes back to it as an event."""
        if thread_ts is not None:
            parent = self.ws.message(channel_id, thread_ts)
            if parent is not None and parent.is_reply:
                thread_ts = parent.thread_ts
            elif parent is None:
                thread_ts = None
        msg = self.ws.post(
            channel_id,
            self.ws.app.bot_user_id,
            text,
            thread_ts=thread_ts,
            blocks=blocks,
            metadata=metadata,
            file_ids=file_ids,
            subtype=subtype,
        )
        self.events.message_posted(msg)
        return msg

    def bot_update(self, msg: Message, text: str, blocks: list[Json] | None) -> Message:
        """The bot edits its message (chat.update or a response_url replace)."""
        return self.ws.update(msg, text=text, blocks=blocks, edited_by=None)

    def bot_delete(self, msg: Message) -> None:
        """The bot deletes its message (chat.delete or a response_url delete)."""
        self.ws.delete(msg)
