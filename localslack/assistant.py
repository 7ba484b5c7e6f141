"""The assistant side panel: threads in a person's DM with the app, prompts, titles.

Opening the panel starts an assistant thread, as Slack does: a root message of subtype
``assistant_app_thread`` in the person's DM with the bot, and an ``assistant_thread_started``
event carrying the channel the person was looking at (the context). Their messages in it are
ordinary ``message.im`` events in that thread. The app answers with the assistant methods:

- ``assistant.threads.setSuggestedPrompts``: up to four prompts (title and message), shown as
  buttons until the person writes; a click posts the prompt's message as theirs.
- ``assistant.threads.setTitle``: the thread's title, shown above it and in its history.

Both need the DM with the bot (``channel_not_found``), and a thread that exists
(``invalid_thread_ts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .actions import ActionError, Actions
from .errors import ApiCallError, invalid_arguments
from .events import EventSource
from .ids import ts_key
from .models import Channel, Json
from .state import Change, Workspace
from .webapi import ApiCall, Method

MAX_PROMPTS = 4
NEW_CHAT = "New chat"


@dataclass(kw_only=True)
class AssistantThread:
    """One assistant thread: whose it is, what they were looking at, what the app set."""

    user: str
    channel: str
    thread_ts: str
    context: str
    title: str = NEW_CHAT
    prompts: list[Json] = field(default_factory=list)
    prompts_title: str = ""


class AssistantPanel:
    """Assistant threads, their opening by people, and the methods the app calls on them."""

    def __init__(self, workspace: Workspace, events: EventSource, actions: Actions) -> None:
        self.ws = workspace
        self.events = events
        self.actions = actions
        self.threads: dict[tuple[str, str], AssistantThread] = {}

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "assistant.threads.setSuggestedPrompts": Method(self.set_prompts),
            "assistant.threads.setTitle": Method(self.set_title),
        }

    # ----- people --------------------------------------------------------------------------
    def open(self, user_ref: str, context_ref: str) -> AssistantThread:
        """A person opens the panel while looking at a channel: a new assistant thread."""
        user = self.ws.user(user_ref)
        context = self.ws.channel(context_ref)
        dm = self.ws.dm_with(user.id)
        root = self.ws.post(
            dm.id, self.ws.app.bot_user_id, NEW_CHAT, subtype="assistant_app_thread"
        )
        thread = AssistantThread(user=user.id, channel=dm.id, thread_ts=root.ts, context=context.id)
        self.threads[(dm.id, root.ts)] = thread
        self.events.assistant_thread(
            "assistant_thread_started", user.id, dm.id, root.ts, context.id
        )
        return thread

    def look_at(self, thread: AssistantThread, context_ref: str) -> None:
        """The person moves to another channel while the panel is open."""
        context = self.ws.channel(context_ref)
        if context.id == thread.context:
            return
        thread.context = context.id
        self.events.assistant_thread(
            "assistant_thread_context_changed",
            thread.user,
            thread.channel,
            thread.thread_ts,
            context.id,
        )

    def pick(self, thread: AssistantThread, index: int) -> str:
        """The person clicks a suggested prompt: its message is posted as theirs."""
        if not 0 <= index < len(thread.prompts):
            raise ActionError("There is no such suggested prompt.")
        message = str(thread.prompts[index]["message"])
        return self.actions.user_post(thread.user, thread.channel, message, thread.thread_ts).ts

    def find(self, channel: str, thread_ts: str) -> AssistantThread:
        """An assistant thread by its DM and root ts."""
        found = self.threads.get((channel, thread_ts))
        if found is None:
            raise ActionError(f"No assistant thread {thread_ts} in {channel}.")
        return found

    def to_json(self, thread: AssistantThread) -> Json:
        """What the page shows above the thread."""
        return {
            "channel": thread.channel,
            "thread_ts": thread.thread_ts,
            "context": thread.context,
            "title": thread.title,
            "prompts": thread.prompts,
            "prompts_title": thread.prompts_title,
        }

    # ----- the app -------------------------------------------------------------------------
    def _thread(self, call: ApiCall) -> AssistantThread:
        """The thread named, or (no thread_ts) the latest of the channel, as Slack picks."""
        channel = self._dm(call.str_arg("channel_id"))
        thread_ts = call.str_arg("thread_ts")
        if not thread_ts:
            mine = [ts for (c, ts) in self.threads if c == channel.id]
            thread_ts = max(mine, key=ts_key) if mine else ""
        thread = self.threads.get((channel.id, thread_ts))
        if thread is None:
            raise ApiCallError("invalid_thread_ts")
        return thread

    def _dm(self, ref: str) -> Channel:
        channel = self.ws.find_channel(ref)
        if channel is None or channel.kind != "im":
            raise ApiCallError("channel_not_found")
        return channel

    async def set_prompts(self, call: ApiCall) -> Json:
        """assistant.threads.setSuggestedPrompts: up to four, each a title and a message."""
        thread = self._thread(call)
        prompts = _prompts(call.args.get("prompts"))
        thread.prompts = prompts
        thread.prompts_title = call.str_arg("title")
        self._changed(thread)
        return {}

    async def set_title(self, call: ApiCall) -> Json:
        """assistant.threads.setTitle: the thread's title (its root message shows it)."""
        thread = self._thread(call)
        title = call.str_arg("title").strip()
        if not title:
            raise invalid_arguments("missing required field: title")
        thread.title = title
        root = self.ws.message(thread.channel, thread.thread_ts)
        if root is not None:
            self.ws.update(root, text=title, blocks=None, edited_by=self.ws.app.bot_user_id)
        self._changed(thread)
        return {}

    def _changed(self, thread: AssistantThread) -> None:
        self.ws.emit(
            Change(
                kind="assistant",
                channel=thread.channel,
                ts=None,
                thread_ts=thread.thread_ts,
                user=thread.user,
            )
        )


def _prompts(value: Any) -> list[Json]:
    """Checked prompts: a list of 1 to 4 {title, message} objects of non-empty strings."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PROMPTS:
        raise invalid_arguments(f"prompts must be an array of 1 to {MAX_PROMPTS} items")
    checked = []
    for index, prompt in enumerate(value):
        if not isinstance(prompt, dict) or not all(
            isinstance(prompt.get(k), str) and prompt[k].strip() for k in ("title", "message")
        ):
            raise invalid_arguments(f"prompts[{index}] must have a title and a message")
        checked.append({"title": prompt["title"], "message": prompt["message"]})
    return checked
