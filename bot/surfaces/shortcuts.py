"""The "Ask Switchboard" message shortcut: any message becomes a question, answered in its thread.

The person who used the shortcut is the one asking: the turn is theirs (its requester, for
approvals, is them, not the message's author), its text is the message's, and the answer goes
in the message's thread. The shortcut is written to the inbox before Slack gets its ack, like
any event, so it is answered once even across a crash, a Socket Mode redelivery or two
replicas (its event id comes from the shortcut's trigger_id). From there it is an ordinary
turn: the worker, the router, the thread's memory and the outbox.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from storage.store import Store

if TYPE_CHECKING:  # the worker loads the supervisor and litellm
    from bot.slack.worker import Worker

log = structlog.stdlib.get_logger(__name__)

ASK_SWITCHBOARD = "ask_switchboard"
NOT_IN_CHANNEL = (
    "I'm not in <#{channel}>, so I can't answer there. Invite me with `/invite @switchboard`, "
    "then try again."
)
NO_TEXT = "That message has no text I can answer."


def shortcut_event(body: dict[str, Any]) -> dict[str, Any]:
    """The shortcut as the inbox keeps events: a turn by the shortcut's user, in the thread."""
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or "")
    ts = str(body.get("message_ts") or message.get("ts") or "")
    trigger = str(body.get("trigger_id") or body.get("action_ts") or ts)
    event = {
        "type": "message_action",
        "callback_id": ASK_SWITCHBOARD,
        "channel": channel,
        "channel_type": "im" if channel.startswith("D") else "channel",
        "user": str((body.get("user") or {}).get("id") or ""),
        "text": str(message.get("text") or ""),
        "ts": ts,
        "thread_ts": str(message.get("thread_ts") or ts),
        "author": message.get("user"),
    }
    return {
        "type": "event_callback",
        "team_id": str((body.get("team") or {}).get("id") or ""),
        "event_id": "Sc" + hashlib.sha256(trigger.encode()).hexdigest()[:30],
        "event": event,
    }


class AskShortcut:
    def __init__(
        self, store: Store, worker: Worker, client: AsyncWebClient, metrics: Metrics
    ) -> None:
        self.store = store
        self.worker = worker
        self.client = client
        self.metrics = metrics

    async def __call__(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        payload = shortcut_event(body)
        event = payload["event"]
        self.metrics.events.labels("message_action").inc()
        if not event["text"].strip():
            await ack()
            await respond(text=NO_TEXT, response_type="ephemeral")
            return
        if not await self._in_channel(event["channel"]):
            await ack()
            await respond(
                text=NOT_IN_CHANNEL.format(channel=event["channel"]), response_type="ephemeral"
            )
            return
        row_id = await self.store.inbox.record(
            event_id=payload["event_id"],
            kind="message_action",
            payload=payload,
            team_id=payload["team_id"],
            channel=event["channel"],
            thread_ts=event["thread_ts"],
        )
        await ack()  # written down first: a crash after the ack still answers it
        if row_id is None:
            log.info("shortcut.duplicate", event_id=payload["event_id"])
            return
        log.info("shortcut.recorded", event_id=payload["event_id"], inbox_id=row_id)
        self.worker.submit(row_id, f"{event['channel']}:{event['thread_ts']}")

    async def _in_channel(self, channel: str) -> bool:
        try:
            info = await self.client.conversations_info(channel=channel)
        except SlackApiError:
            return False  # a private channel the bot is not in: Slack says channel_not_found
        found = info.get("channel") or {}
        return bool(found.get("is_member") or found.get("is_im"))
