"""The records of the workspace (users, channels, messages, files) and their Slack JSON shapes.

Plain dataclasses hold the state; the ``*_json`` functions produce exactly what the Web API
and the Events API put on the wire, so there is one place that decides what a message looks
like to the app.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any, Literal

ChannelKind = Literal["channel", "group", "im"]
Json = dict[str, Any]


@dataclass(kw_only=True)
class User:
    """A person (or the bot user) in the workspace."""

    id: str
    name: str
    real_name: str
    title: str = ""
    is_bot: bool = False
    color: str = "4a154b"
    is_admin: bool = False


@dataclass(kw_only=True)
class AppIdentity:
    """The installed app: its ids, its bot user and its secrets."""

    app_id: str
    bot_id: str
    bot_user_id: str
    bot_name: str
    bot_token: str
    app_token: str
    signing_secret: str
    verification_token: str


@dataclass(kw_only=True)
class Usergroup:
    """A user group (``<!subteam^ID>``) such as @support-leads."""

    id: str
    handle: str
    name: str
    users: list[str]


@dataclass(kw_only=True)
class Channel:
    """A public channel, a private one ("group") or a DM with the bot ("im")."""

    id: str
    name: str
    kind: ChannelKind
    members: set[str]
    created: int
    topic: str = ""
    purpose: str = ""
    im_user: str | None = None

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` Slack puts in message events."""
        return self.kind


@dataclass(kw_only=True)
class Message:
    """A message in a channel or thread; ``ts`` is its key within the channel."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Json] | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    metadata: Json | None = None
    file_ids: list[str] = field(default_factory=list)
    subtype: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: Json | None = None
    client_msg_id: str | None = None
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        """True for a message inside a thread (not the parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass(kw_only=True)
class Ephemeral:
    """A message only ``user`` sees; it is never in history and sends no events."""

    channel: str
    ts: str
    user: str
    sender: str
    text: str
    blocks: list[Json] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None


@dataclass(kw_only=True)
class FileRecord:
    """An uploaded file: reserved by getUploadURLExternal, filled by the upload POST."""

    id: str
    name: str
    length: int
    user: str
    created: int
    upload_key: str
    title: str = ""
    alt_txt: str = ""
    data: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)

    @property
    def mimetype(self) -> str:
        """Guessed from the file name, as Slack does for most uploads."""
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


def user_json(user: User, team_id: str) -> Json:
    """The ``user`` object of users.info."""
    first, _, last = user.real_name.partition(" ")
    profile: Json = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "first_name": first,
        "last_name": last,
        "title": user.title,
        "team": team_id,
        "email": None if user.is_bot else f"{user.name}@example.com",
    }
    if user.is_bot:
        profile["always_active"] = True
    return {
        "id": user.id,
        "team_id": team_id,
        "name": user.name,
        "deleted": False,
        "color": user.color,
        "real_name": user.real_name,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 1_700_000_000,
    }


def channel_json(channel: Channel, viewer: str, latest_ts: str | None = None) -> Json:
    """The ``channel`` object of conversations.info, as seen by ``viewer``."""
    base: Json = {
        "id": channel.id,
        "created": channel.created,
        "is_archived": False,
        "is_im": channel.kind == "im",
        "is_mpim": False,
        "is_private": channel.kind != "channel",
        "is_member": viewer in channel.members,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_shared": False,
        "last_read": latest_ts or "0000000000.000000",
    }
    if channel.kind == "im":
        base.update({"user": channel.im_user, "is_open": True, "priority": 0})
        return base
    topic = {"value": channel.topic, "creator": "", "last_set": 0}
    purpose = {"value": channel.purpose, "creator": "", "last_set": 0}
    base.update(
        {
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": channel.kind == "channel",
            "is_group": channel.kind == "group",
            "is_general": channel.name == "general",
            "creator": "",
            "topic": topic,
            "purpose": purpose,
            "previous_names": [],
            "num_members": len(channel.members),
        }
    )
    return base


def file_json(record: FileRecord, base_url: str, team_id: str) -> Json:
    """A file object as files.completeUploadExternal and message ``files`` carry it."""
    url = f"{base_url}/files/{record.id}/{record.name}"
    kind = record.name.rsplit(".", 1)[-1].lower() if "." in record.name else "binary"
    return {
        "id": record.id,
        "created": record.created,
        "timestamp": record.created,
        "name": record.name,
        "title": record.title or record.name,
        "mimetype": record.mimetype,
        "filetype": kind,
        "pretty_type": kind.upper(),
        "user": record.user,
        "user_team": team_id,
        "size": len(record.data or b""),
        "mode": "hosted",
        "is_external": False,
        "is_public": True,
        "alt_txt": record.alt_txt,
        "url_private": url,
        "url_private_download": url + "?download=1",
        "permalink": f"{base_url}/files/{record.id}",
        "channels": list(record.channels),
    }


def message_json(msg: Message, team_id: str, files: list[Json], bot_name: str) -> Json:
    """A message as conversations.history/replies and message events show it."""
    out: Json = {"type": "message", "ts": msg.ts, "user": msg.user, "text": msg.text}
    out["team"] = team_id
    if msg.subtype:
        out["subtype"] = msg.subtype
    if msg.client_msg_id:
        out["client_msg_id"] = msg.client_msg_id
    if msg.bot_id:
        out["bot_id"] = msg.bot_id
        out["app_id"] = msg.app_id
        out["bot_profile"] = {
            "id": msg.bot_id,
            "app_id": msg.app_id,
            "name": bot_name,
            "deleted": False,
            "team_id": team_id,
        }
    if msg.blocks is not None:
        out["blocks"] = msg.blocks
    if msg.metadata is not None:
        out["metadata"] = msg.metadata
    if files:
        out["files"] = files
        out["upload"] = False
    if msg.thread_ts:
        out["thread_ts"] = msg.thread_ts
        if msg.is_reply:
            out["parent_user_id"] = msg.parent_user_id
    if msg.reply_ts:
        out["reply_count"] = len(msg.reply_ts)
        out["latest_reply"] = msg.reply_ts[-1]
        out["reply_users"] = list(msg.reply_users)
        out["reply_users_count"] = len(msg.reply_users)
    if msg.reactions:
        out["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in msg.reactions.items()
        ]
    if msg.edited:
        out["edited"] = msg.edited
    return out


def ephemeral_json(eph: Ephemeral) -> Json:
    """An ephemeral message as the web page renders it."""
    out: Json = {
        "type": "message",
        "subtype": "ephemeral",
        "ts": eph.ts,
        "user": eph.sender,
        "text": eph.text,
        "is_ephemeral": True,
    }
    if eph.blocks is not None:
        out["blocks"] = eph.blocks
    if eph.thread_ts:
        out["thread_ts"] = eph.thread_ts
    if eph.bot_id:
        out["bot_id"] = eph.bot_id
    return out
