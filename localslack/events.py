"""Events API payloads: which events a workspace change causes, in Slack's envelope.

Slack's rules, as kept here:
- The app gets message events only for conversations its bot user is in, and only for the
  subscriptions it has (message.channels, message.groups, message.im).
- A person's message in a channel that mentions ``<@BOT>`` gives BOTH ``app_mention`` and
  ``message``: two deliveries, different event_ids, same ts.
- The bot's own posts come back as ``message`` events with ``bot_id`` (the app must ignore
  them; Bolt does so by default).
- Edits and deletions by people are ``message`` events with subtype ``message_changed`` /
  ``message_deleted``, hidden, carrying the previous message.
- Opening the app's Home gives ``app_home_opened`` (with the published view, if any); opening
  the assistant panel gives ``assistant_thread_started``, and moving to another channel while
  it is open ``assistant_thread_context_changed``: each only when subscribed.
"""

from __future__ import annotations

import base64
import json
import time

from .config import LocalSlackConfig
from .delivery import Delivery, Dispatcher
from .ids import event_id
from .models import Channel, Json, Message
from .state import Workspace

_MESSAGE_SUBSCRIPTION = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
}


class EventSource:
    """Turns workspace changes into event_callback deliveries."""

    def __init__(self, workspace: Workspace, config: LocalSlackConfig, dispatcher: Dispatcher):
        self.ws = workspace
        self.config = config
        self.dispatcher = dispatcher

    def envelope(self, event: Json) -> Json:
        """Wrap an inner event in the event_callback envelope Slack sends."""
        app = self.ws.app
        channel = event.get("channel") or event.get("item", {}).get("channel", "")
        thread = event.get("assistant_thread") or {}
        channel = channel or thread.get("channel_id", "")
        context = {"et": event["type"], "tid": self.ws.team_id, "aid": app.app_id, "cid": channel}
        encoded = base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("=")
        return {
            "token": app.verification_token,
            "team_id": self.ws.team_id,
            "context_team_id": self.ws.team_id,
            "context_enterprise_id": None,
            "api_app_id": app.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team_id,
                    "user_id": app.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{encoded}",
        }

    def emit(self, event: Json) -> Delivery:
        """Send one inner event to the app in a fresh envelope."""
        return self.dispatcher.send("event", self.envelope(event))

    def _subscribed_to_messages(self, channel: Channel) -> bool:
        wanted = _MESSAGE_SUBSCRIPTION[channel.kind]
        return wanted in self.config.event_subscriptions and self._bot_in(channel)

    def _bot_in(self, channel: Channel) -> bool:
        return self.ws.app.bot_user_id in channel.members

    def message_posted(self, msg: Message) -> list[Delivery]:
        """Events for a new message: app_mention (if it mentions the bot) and message."""
        channel = self.ws.channels[msg.channel]
        body = self.ws.to_json(msg)
        body.pop("reactions", None)
        sent: list[Delivery] = []
        mention = f"<@{self.ws.app.bot_user_id}>"
        if (
            msg.bot_id is None
            and mention in msg.text
            and channel.kind != "im"
            and "app_mention" in self.config.event_subscriptions
            and self._bot_in(channel)
        ):
            app_mention = {k: v for k, v in body.items() if k not in ("reply_count",)}
            app_mention.update({"type": "app_mention", "channel": msg.channel, "event_ts": msg.ts})
            sent.append(self.emit(app_mention))
        if self._subscribed_to_messages(channel):
            event = {**body, "channel": msg.channel, "event_ts": msg.ts}
            event["channel_type"] = channel.channel_type
            sent.append(self.emit(event))
        return sent

    def message_changed(self, msg: Message, previous: Json) -> list[Delivery]:
        """A ``message_changed`` event after a person edited a message."""
        channel = self.ws.channels[msg.channel]
        if not self._subscribed_to_messages(channel):
            return []
        ts = self.ws.next_ts()
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": msg.channel,
            "channel_type": channel.channel_type,
            "message": self.ws.to_json(msg),
            "previous_message": previous,
            "ts": ts,
            "event_ts": ts,
        }
        return [self.emit(event)]

    def message_deleted(self, msg: Message, previous: Json) -> list[Delivery]:
        """A ``message_deleted`` event after a person deleted a message."""
        channel = self.ws.channels[msg.channel]
        if not self._subscribed_to_messages(channel):
            return []
        ts = self.ws.next_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": msg.channel,
            "channel_type": channel.channel_type,
            "deleted_ts": msg.ts,
            "previous_message": previous,
            "ts": ts,
            "event_ts": ts,
        }
        return [self.emit(event)]

    def reaction(self, msg: Message, user_id: str, name: str, added: bool) -> list[Delivery]:
        """``reaction_added`` / ``reaction_removed``, when the app subscribed to them."""
        kind = "reaction_added" if added else "reaction_removed"
        channel = self.ws.channels[msg.channel]
        if kind not in self.config.event_subscriptions or not self._bot_in(channel):
            return []
        ts = self.ws.next_ts()
        event = {
            "type": kind,
            "user": user_id,
            "reaction": name,
            "item_user": msg.user,
            "item": {"type": "message", "channel": msg.channel, "ts": msg.ts},
            "event_ts": ts,
        }
        return [self.emit(event)]

    def app_home_opened(
        self, user: str, channel: str, tab: str, view: Json | None
    ) -> list[Delivery]:
        """``app_home_opened``: a person opened the app's Home (or Messages) tab.

        The current Home view is included once one was published, as Slack does.
        """
        if "app_home_opened" not in self.config.event_subscriptions:
            return []
        event: Json = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel,
            "tab": tab,
            "event_ts": self.ws.next_ts(),
        }
        if view is not None and tab == "home":
            event["view"] = view
        return [self.emit(event)]

    def assistant_thread(
        self, kind: str, user: str, channel: str, thread_ts: str, context: str
    ) -> list[Delivery]:
        """``assistant_thread_started`` / ``assistant_thread_context_changed`` for the panel."""
        if kind not in self.config.event_subscriptions:
            return []
        event = {
            "type": kind,
            "assistant_thread": {
                "user_id": user,
                "context": {
                    "channel_id": context,
                    "team_id": self.ws.team_id,
                    "enterprise_id": None,
                },
                "channel_id": channel,
                "thread_ts": thread_ts,
            },
            "event_ts": self.ws.next_ts(),
        }
        return [self.emit(event)]

    def url_verification(self, challenge: str) -> Delivery:
        """The challenge Slack sends when a request URL is set."""
        payload = {
            "token": self.ws.app.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self.dispatcher.send("url_verification", payload, delivery_id=challenge)
