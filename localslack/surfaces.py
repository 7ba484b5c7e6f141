"""What people do on the app's own surfaces: its Home tab, its modals, its message shortcuts.

Each deed sends the app what Slack sends, in Slack's shape:

- opening the app's Home (or Messages) tab: an ``app_home_opened`` event;
- clicking a button in a Home tab or a modal: ``block_actions`` with a ``view`` container and
  the whole view (no channel, no response_url);
- a message's "More actions" menu: ``message_action`` with the message, a trigger_id and a
  response_url that answers in the message's channel (and thread);
- submitting a modal: ``view_submission`` with ``view.state.values``. The app's answer in its
  ack decides what happens: nothing (the modal closes), ``response_action: errors`` (messages
  under the named inputs), ``update``, ``push`` or ``clear``. No answer in time shows the
  person the error Slack shows, and the modal stays;
- closing a modal: ``view_closed`` when the view asked for ``notify_on_close``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from .actions import ActionError
from .blocks import find_action
from .config import LocalSlackConfig
from .delivery import Delivery, Dispatcher
from .errors import ApiCallError, LocalSlackError
from .events import EventSource
from .ids import trigger_id
from .interactivity import Interactivity, action_json
from .models import Json
from .state import Workspace
from .views import View, Views, check_view, input_values, missing_inputs

TROUBLE = "We had some trouble connecting. Try again?"


class Surfaces:
    """People's deeds on Home tabs, modals and message shortcuts."""

    def __init__(
        self,
        workspace: Workspace,
        config: LocalSlackConfig,
        dispatcher: Dispatcher,
        events: EventSource,
        interactivity: Interactivity,
        views: Views,
    ) -> None:
        self.ws = workspace
        self.config = config
        self.dispatcher = dispatcher
        self.events = events
        self.interactivity = interactivity
        self.views = views

    # ----- Home ----------------------------------------------------------------------------
    def open_home(self, user_ref: str, tab: str = "home") -> list[Delivery]:
        """A person opens the app's Home tab (or its Messages tab)."""
        user = self.ws.user(user_ref)
        dm = self.ws.dm_with(user.id)
        home = self.views.home_of(user.id)
        view = self.views.to_json(home) if home is not None else None
        return self.events.app_home_opened(user.id, dm.id, tab, view)

    # ----- buttons in views ----------------------------------------------------------------
    def click(
        self,
        user_ref: str,
        view_id: str,
        action_id: str,
        block_id: str | None = None,
        value: str | None = None,
    ) -> Delivery:
        """A person clicks a button in their Home tab or their open modal."""
        user = self.ws.user(user_ref)
        view = self._own_view(user.id, view_id)
        found = find_action(view.spec.get("blocks", []), action_id, block_id)
        if found is None:
            raise ActionError(f"No element with action_id {action_id!r} in that view.")
        found_block, element = found
        payload = self._base(user.id, "block_actions")
        payload.update(
            {
                "container": {"type": "view", "view_id": view.id},
                "view": self.views.to_json(view),
                "actions": [action_json(element, found_block, value)],
                "state": {"values": view.values},
            }
        )
        return self.dispatcher.send("interactive", payload)

    # ----- message shortcuts ---------------------------------------------------------------
    def shortcut(
        self, user_ref: str, channel_ref: str, message_ts: str, callback_id: str
    ) -> Delivery:
        """A person picks one of the app's message shortcuts from a message's menu."""
        declared = {s.callback_id for s in self.config.message_shortcuts}
        if callback_id not in declared:
            raise ActionError(f"The app has no message shortcut {callback_id!r}.")
        user = self.ws.user(user_ref)
        channel = self.ws.channel(channel_ref)
        if user.id not in channel.members:
            raise ActionError(f"{user.name} is not a member of #{channel.name}.")
        msg = self.ws.message(channel.id, message_ts)
        if msg is None:
            raise ActionError(f"No message {message_ts} in #{channel.name}.")
        target = self.interactivity.new_target(channel.id, user.id, msg.thread_ts, msg, None)
        payload = self._base(user.id, "message_action")
        payload.update(
            {
                "callback_id": callback_id,
                "action_ts": f"{time.time():.6f}",
                "channel": {"id": channel.id, "name": channel.name},
                "message_ts": msg.ts,
                "message": self.ws.to_json(msg),
            }
        )
        return self.dispatcher.send("interactive", self.interactivity.with_url(payload, target))

    # ----- modals --------------------------------------------------------------------------
    async def submit(self, user_ref: str, view_id: str, entered: dict[str, Any]) -> View | None:
        """A person presses the modal's submit button; returns the modal still shown, if any.

        Required inputs left empty never reach the app (Slack's client checks them).
        """
        user = self.ws.user(user_ref)
        view = self._own_view(user.id, view_id)
        if view.type != "modal" or "submit" not in view.spec:
            raise ActionError("Only a modal with a submit button can be submitted.")
        view.values = input_values(view, entered)
        missing = missing_inputs(view, view.values)
        if missing:
            self.views.show_errors(view, missing)
            return view
        payload = self._base(user.id, "view_submission")
        payload.update({"view": self.views.to_json(view), "response_urls": []})
        delivery = self.dispatcher.send("interactive", payload)
        with contextlib.suppress(LocalSlackError):  # unanswered: the state says so below
            await delivery.wait(self.config.ack_timeout + 1)
        if delivery.state != "acked":
            self.views.show_errors(view, {"": TROUBLE})
            return view
        return self._answer(view, delivery.response or {})

    def close(self, user_ref: str, view_id: str) -> None:
        """A person closes (cancels) the modal; the app hears of it if it asked to."""
        user = self.ws.user(user_ref)
        view = self._own_view(user.id, view_id)
        if view.spec.get("notify_on_close"):
            payload = self._base(user.id, "view_closed")
            payload.update({"view": self.views.to_json(view), "is_cleared": False})
            self.dispatcher.send("interactive", payload)
        self.views.close(view, everything=bool(view.spec.get("clear_on_close")))

    def _answer(self, view: View, answer: Json) -> View | None:
        action = answer.get("response_action")
        try:
            if action == "errors":
                self.views.show_errors(view, dict(answer.get("errors") or {}))
                return view
            if action == "update":
                return self.views.update(view, check_view(answer.get("view"), "modal"), None)
            if action == "push":
                return self.views.push_modal(view.user, check_view(answer.get("view"), "modal"))
        except ApiCallError as refused:
            self.views.show_errors(
                view, {"": f"The app answered with a bad view ({refused.error})."}
            )
            return view
        self.views.close(view, everything=action == "clear")
        return self.views.top_modal(view.user)

    # ----- shared --------------------------------------------------------------------------
    def _own_view(self, user_id: str, view_id: str) -> View:
        view = self.views.by_id.get(view_id)
        if view is None or view.user != user_id:
            raise ActionError(f"No view {view_id} open for this person.")
        return view

    def _base(self, user_id: str, kind: str) -> Json:
        user = self.ws.users[user_id]
        return {
            "type": kind,
            "team": {"id": self.ws.team_id, "domain": self.ws.domain},
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.ws.team_id,
            },
            "api_app_id": self.ws.app.app_id,
            "token": self.ws.app.verification_token,
            "trigger_id": self.views.issue_trigger(trigger_id(), user.id),
            "enterprise": None,
            "is_enterprise_install": False,
        }
