"""The in-memory workspace: who is in it, what was said, and who is watching for changes.

The Workspace is the one owner of state. Mutations are synchronous (no await between reading
and writing, so no locks are needed on the event loop) and each one ends by telling the
observers (the web page's live feed) and the ``changed`` signal (scripted waits).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import UnknownEntityError
from .ids import TsClock, random_id
from .models import (
    AppIdentity,
    Channel,
    Ephemeral,
    FileRecord,
    Json,
    Message,
    User,
    Usergroup,
    file_json,
    message_json,
)
from .signals import Signal


@dataclass(frozen=True, kw_only=True)
class Change:
    """What changed, for the web page's live feed: a channel (and thread), or a status."""

    kind: str
    channel: str
    ts: str | None = None
    thread_ts: str | None = None
    user: str | None = None
    data: Json = field(default_factory=dict)


Observer = Callable[[Change], None]


class Workspace:
    """One team: users, usergroups, channels with their messages, files and thread statuses."""

    def __init__(self, team_id: str, team_name: str, app: AppIdentity) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = team_name.lower().replace(" ", "-")
        self.app = app
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, FileRecord] = {}
        self.statuses: dict[tuple[str, str], str] = {}
        self.base_url = "http://127.0.0.1"
        self.changed = Signal()
        self._observers: list[Observer] = []
        self._clock = TsClock()

    # ----- setup -------------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        """Register a user (setup time)."""
        self.users[user.id] = user
        return user

    def add_channel(self, channel: Channel) -> Channel:
        """Register a channel (setup time)."""
        self.channels[channel.id] = channel
        self.messages.setdefault(channel.id, {})
        return channel

    def add_usergroup(self, group: Usergroup) -> Usergroup:
        """Register a user group (setup time)."""
        self.usergroups[group.id] = group
        return group

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` on every change; returns a function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def next_ts(self) -> str:
        """A fresh message ts."""
        return self._clock.next()

    # ----- lookups -----------------------------------------------------------------------
    def user(self, ref: str) -> User:
        """A user by id or by name ("alice", "@alice")."""
        ref = ref.lstrip("@")
        if ref in self.users:
            return self.users[ref]
        for user in self.users.values():
            if user.name == ref:
                return user
        raise UnknownEntityError("user", ref)

    def channel(self, ref: str) -> Channel:
        """A channel by id or by name ("support", "#support")."""
        ref = ref.lstrip("#")
        if ref in self.channels:
            return self.channels[ref]
        for channel in self.channels.values():
            if channel.name == ref:
                return channel
        raise UnknownEntityError("channel", ref)

    def find_channel(self, ref: str) -> Channel | None:
        """Like ``channel`` but None when missing; a user id maps to the bot's DM with them."""
        try:
            return self.channel(ref)
        except UnknownEntityError:
            pass
        for channel in self.channels.values():
            if channel.kind == "im" and channel.im_user == ref:
                return channel
        return None

    def message(self, channel_id: str, ts: str) -> Message | None:
        """A live (not deleted) message by channel and ts."""
        msg = self.messages.get(channel_id, {}).get(ts)
        return None if msg is None or msg.deleted else msg

    def dm_with(self, user_id: str) -> Channel:
        """The bot's DM channel with a user."""
        for channel in self.channels.values():
            if channel.kind == "im" and channel.im_user == user_id:
                return channel
        raise UnknownEntityError("DM with", user_id)

    def history(self, channel_id: str) -> list[Message]:
        """Top-level messages of a channel, oldest first; replies also sent to the channel
        (``thread_broadcast``) are among them, as in Slack."""
        return [
            m
            for m in self.messages.get(channel_id, {}).values()
            if not m.deleted and (not m.is_reply or m.subtype == "thread_broadcast")
        ]

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        """The parent and replies of a thread, oldest first (empty when there is no parent)."""
        parent = self.message(channel_id, thread_ts)
        if parent is None:
            return []
        replies = (self.message(channel_id, ts) for ts in parent.reply_ts)
        return [parent, *(r for r in replies if r is not None)]

    def all_messages(self) -> Iterator[Message]:
        """Every live message of every channel."""
        for by_ts in self.messages.values():
            yield from (m for m in by_ts.values() if not m.deleted)

    def visible_ephemerals(self, user_id: str, channel_id: str) -> list[Ephemeral]:
        """The ephemeral messages one user sees in one channel."""
        return [e for e in self.ephemerals if e.user == user_id and e.channel == channel_id]

    def to_json(self, msg: Message) -> Json:
        """A message in Slack's wire shape."""
        files = [
            file_json(self.files[f], self.base_url, self.team_id)
            for f in msg.file_ids
            if f in self.files
        ]
        return message_json(msg, self.team_id, files, self.app.bot_name)

    # ----- mutations ---------------------------------------------------------------------
    def post(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[Json] | None = None,
        metadata: Json | None = None,
        file_ids: list[str] | None = None,
        subtype: str | None = None,
    ) -> Message:
        """Add a message (from a person, or from the bot when ``user_id`` is the bot user)."""
        is_bot = user_id == self.app.bot_user_id
        msg = Message(
            channel=channel_id,
            ts=self.next_ts(),
            user=user_id,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            bot_id=self.app.bot_id if is_bot else None,
            app_id=self.app.app_id if is_bot else None,
            metadata=metadata,
            file_ids=list(file_ids or []),
            subtype=subtype,
            client_msg_id=None if is_bot else str(uuid.uuid4()),
        )
        if thread_ts is not None:
            parent = self.messages[channel_id][thread_ts]
            msg.parent_user_id = parent.user
            parent.thread_ts = thread_ts
            parent.reply_ts.append(msg.ts)
            if user_id not in parent.reply_users:
                parent.reply_users.append(user_id)
            if is_bot:
                self.statuses.pop((channel_id, thread_ts), None)
        self.messages[channel_id][msg.ts] = msg
        self._emit(
            Change(kind="message", channel=channel_id, ts=msg.ts, thread_ts=thread_ts, user=user_id)
        )
        return msg

    def update(
        self, msg: Message, *, text: str, blocks: list[Json] | None, edited_by: str | None
    ) -> Message:
        """Change a message's text and blocks; ``edited_by`` marks a person's edit."""
        msg.text = text
        msg.blocks = blocks
        if edited_by is not None:
            msg.edited = {"user": edited_by, "ts": self.next_ts()}
        self._emit(
            Change(
                kind="message_changed",
                channel=msg.channel,
                ts=msg.ts,
                thread_ts=msg.thread_ts,
                user=msg.user,
            )
        )
        return msg

    def delete(self, msg: Message) -> None:
        """Delete a message (its replies stay, as in Slack)."""
        msg.deleted = True
        if msg.is_reply and msg.thread_ts is not None:
            parent = self.messages[msg.channel].get(msg.thread_ts)
            if parent is not None and msg.ts in parent.reply_ts:
                parent.reply_ts.remove(msg.ts)
        self._emit(
            Change(
                kind="message_deleted",
                channel=msg.channel,
                ts=msg.ts,
                thread_ts=msg.thread_ts,
                user=msg.user,
            )
        )

    def react(self, msg: Message, user_id: str, name: str, *, add: bool) -> bool:
        """Add or remove a reaction; False when that changes nothing."""
        users = msg.reactions.setdefault(name, [])
        if add == (user_id in users):
            if not users:
                del msg.reactions[name]
            return False
        if add:
            users.append(user_id)
        else:
            users.remove(user_id)
            if not users:
                del msg.reactions[name]
        self._emit(
            Change(
                kind="reaction",
                channel=msg.channel,
                ts=msg.ts,
                thread_ts=msg.thread_ts,
                user=user_id,
            )
        )
        return True

    def post_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        sender: str,
        blocks: list[Json] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        """Show a message to one user only."""
        eph = Ephemeral(
            channel=channel_id,
            ts=self.next_ts(),
            user=user_id,
            sender=sender,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            bot_id=self.app.bot_id if sender == self.app.bot_user_id else None,
        )
        self.ephemerals.append(eph)
        self._emit(
            Change(
                kind="ephemeral", channel=channel_id, ts=eph.ts, thread_ts=thread_ts, user=user_id
            )
        )
        return eph

    def replace_ephemeral(self, eph: Ephemeral, text: str, blocks: list[Json] | None) -> None:
        """Replace an ephemeral message in place (response_url with replace_original)."""
        eph.text, eph.blocks = text, blocks
        self._emit(
            Change(
                kind="ephemeral",
                channel=eph.channel,
                ts=eph.ts,
                thread_ts=eph.thread_ts,
                user=eph.user,
            )
        )

    def remove_ephemeral(self, eph: Ephemeral) -> None:
        """Remove an ephemeral message (response_url with delete_original)."""
        if eph in self.ephemerals:
            self.ephemerals.remove(eph)
        self._emit(
            Change(
                kind="ephemeral",
                channel=eph.channel,
                ts=eph.ts,
                thread_ts=eph.thread_ts,
                user=eph.user,
            )
        )

    def set_status(self, channel_id: str, thread_ts: str, status: str) -> None:
        """Set (or clear, with "") the bot's "is thinking" status of a thread."""
        if status:
            self.statuses[(channel_id, thread_ts)] = status
        else:
            self.statuses.pop((channel_id, thread_ts), None)
        self._emit(
            Change(
                kind="status",
                channel=channel_id,
                ts=None,
                thread_ts=thread_ts,
                data={"status": status},
            )
        )

    def new_file(self, user_id: str, name: str, length: int, alt_txt: str) -> FileRecord:
        """Reserve a file id and a secret upload key."""
        record = FileRecord(
            id=random_id("F"),
            name=name,
            length=length,
            user=user_id,
            created=int(time.time()),
            upload_key=uuid.uuid4().hex,
            alt_txt=alt_txt,
        )
        self.files[record.id] = record
        return record

    def summary(self) -> dict[str, Any]:
        """Names and ids of users, channels and groups: handy when writing a test."""
        return {
            "team": self.team_id,
            "bot": {"user_id": self.app.bot_user_id, "bot_id": self.app.bot_id},
            "users": {u.name: u.id for u in self.users.values()},
            "channels": {c.name: c.id for c in self.channels.values()},
            "usergroups": {g.handle: g.id for g in self.usergroups.values()},
        }

    def emit(self, change: Change) -> None:
        """Tell the page and waiters about a change kept outside this class (views, panels)."""
        self._emit(change)

    def _emit(self, change: Change) -> None:
        for observer in list(self._observers):
            observer(change)
        self.changed.notify()
