"""Scripting verbs for the app's surfaces: Home tabs, modals, message shortcuts, the assistant.

Mixed into ``LocalSlack``, so a test acts as a person would on these surfaces with the same
deeds the web page uses::

    await ls.open_home("alice")
    home = await ls.wait_for_home("alice", lambda v: "Waiting" in str(v["blocks"]))
    await ls.click_view("alice", home["id"], "approval_approve", block_id="home:A1")
    await ls.shortcut("erin", "support", ts, "ask_switchboard")
    modal = await ls.wait_for_modal("alice")
    await ls.submit_view("alice", modal["id"], {"reason": {"reason": "Not this month"}})
    thread = await ls.open_assistant("bob", "support")
    await ls.pick_prompt(thread["channel"], thread["thread_ts"], 0)
"""

from __future__ import annotations

from collections.abc import Callable

from .delivery import Delivery
from .models import Json
from .server import Components


class SurfaceVerbs:
    """What people do on Home tabs, in modals, with shortcuts and in the assistant panel."""

    parts: Components

    async def _until(self, predicate: Callable[[], Json | None], within: float, what: str) -> Json:
        result: Json = await self.parts.workspace.changed.wait_for(predicate, within, what)
        return result

    # ----- Home ----------------------------------------------------------------------------
    async def open_home(self, user: str, tab: str = "home") -> list[Delivery]:
        """A person opens the app's Home tab; returns the app_home_opened deliveries."""
        return self.parts.surfaces.open_home(user, tab)

    def home(self, user: str) -> Json | None:
        """The Home tab published for a person (None before the first publish)."""
        ws = self.parts.workspace
        view = self.parts.views.home_of(ws.user(user).id)
        return self.parts.views.to_json(view) if view else None

    async def wait_for_home(
        self, user: str, predicate: Callable[[Json], bool] | None = None, within: float = 5.0
    ) -> Json:
        """The person's Home tab, once published (and once ``predicate`` holds)."""

        def found() -> Json | None:
            view = self.home(user)
            return view if view is not None and (predicate is None or predicate(view)) else None

        return await self._until(found, within, f"the Home tab of {user}")

    # ----- views ---------------------------------------------------------------------------
    async def click_view(
        self,
        user: str,
        view_id: str,
        action_id: str,
        *,
        block_id: str | None = None,
        value: str | None = None,
        wait: float | None = 5.0,
    ) -> Delivery:
        """Click a button in a Home tab or a modal; the block_actions delivery, settled."""
        delivery = self.parts.surfaces.click(user, view_id, action_id, block_id, value)
        return await delivery.wait(wait) if wait is not None else delivery

    def modal(self, user: str) -> Json | None:
        """The modal a person sees now, with ``errors`` shown under its inputs."""
        ws = self.parts.workspace
        view = self.parts.views.top_modal(ws.user(user).id)
        if view is None:
            return None
        return {**self.parts.views.to_json(view), "errors": dict(view.errors)}

    async def wait_for_modal(
        self, user: str, predicate: Callable[[Json], bool] | None = None, within: float = 5.0
    ) -> Json:
        """The modal the app opened for a person (once ``predicate`` holds)."""

        def found() -> Json | None:
            view = self.modal(user)
            return view if view is not None and (predicate is None or predicate(view)) else None

        return await self._until(found, within, f"a modal for {user}")

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, str]]
    ) -> Json | None:
        """Fill a modal's inputs ({block_id: {action_id: text}}) and submit it; the modal
        still shown afterwards (with errors, updated, or the one below), or None."""
        shown = await self.parts.surfaces.submit(user, view_id, values)
        return self.modal(user) if shown is not None else None

    async def close_view(self, user: str, view_id: str) -> None:
        """Close (cancel) a modal."""
        self.parts.surfaces.close(user, view_id)

    # ----- message shortcuts ---------------------------------------------------------------
    async def shortcut(
        self,
        user: str,
        channel: str,
        message_ts: str,
        callback_id: str,
        *,
        wait: float | None = 5.0,
    ) -> Delivery:
        """Use a message shortcut on a message; the message_action delivery, settled."""
        delivery = self.parts.surfaces.shortcut(user, channel, message_ts, callback_id)
        return await delivery.wait(wait) if wait is not None else delivery

    # ----- the assistant panel -------------------------------------------------------------
    async def open_assistant(self, user: str, context: str) -> Json:
        """A person opens the assistant panel while looking at ``context``; the new thread."""
        panel = self.parts.assistant
        return panel.to_json(panel.open(user, context))

    def assistant(self, channel: str, thread_ts: str) -> Json:
        """An assistant thread as the panel shows it (title, prompts)."""
        panel = self.parts.assistant
        return panel.to_json(panel.find(channel, thread_ts))

    async def pick_prompt(self, channel: str, thread_ts: str, index: int) -> str:
        """The person clicks suggested prompt ``index``; the ts of the message it posts."""
        panel = self.parts.assistant
        return panel.pick(panel.find(channel, thread_ts), index)
