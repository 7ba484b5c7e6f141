"""Views: each person's Home tab and their stack of modals, as Slack keeps them.

A view is what the app sent (blocks, title, buttons, ``private_metadata``) plus what Slack adds:
an id, a ``hash`` that changes on every update (``views.update`` and ``views.publish`` refuse a
stale one with ``hash_conflict``), and the ``state`` of its inputs as the person typed them.

Modals open only with a ``trigger_id`` from an interaction of that person, once, within a few
seconds (Slack: 3 s), as ``views.open`` requires. The checks mirror Slack's limits: 100 blocks,
a title, submit and close of at most 24 characters, ``private_metadata`` up to 3000,
``callback_id`` and ``external_id`` up to 255, and a submit button on any modal with inputs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .blocks import validate_blocks, with_block_ids
from .errors import ApiCallError, invalid_arguments
from .ids import random_id
from .models import Json
from .state import Change, Workspace

ViewType = Literal["home", "modal"]
MAX_VIEW_BLOCKS = 100
MAX_STACK = 3  # Slack keeps at most three modals on a stack


@dataclass(kw_only=True)
class View:
    """One view: the app's definition, Slack's bookkeeping, and the person's input."""

    id: str
    user: str
    type: ViewType
    spec: Json
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    values: Json = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Trigger:
    """A trigger_id handed to the app with an interaction: one person, one use, soon."""

    user: str
    issued: float
    used: bool = False


def _new_hash() -> str:
    return f"{time.time():.6f}.{random_id('', 8).lower()}"


def check_view(view: Any, kind: ViewType) -> Json:
    """The view as the app sent it, or invalid_arguments with Slack's messages."""
    if not isinstance(view, dict):
        raise invalid_arguments("must provide an object [json-pointer:/view]")
    problems: list[str] = []
    if view.get("type") != kind:
        problems.append(f"must be {kind} [json-pointer:/view/type]")
    problems += validate_blocks(view.get("blocks", []), limit=MAX_VIEW_BLOCKS, root="/view/blocks")
    for name in ("title", "submit", "close"):
        problems += _short_text(view, name, required=kind == "modal" and name == "title")
    has_input = any(
        isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", [])
    )
    if kind == "modal" and has_input and "submit" not in view:
        problems.append("must provide submit when the view has input blocks [json-pointer:/view]")
    for name, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            problems.append(
                f"must be a string of at most {limit} characters [json-pointer:/view/{name}]"
            )
    if problems:
        raise invalid_arguments(*problems)
    return {**view, "blocks": with_block_ids(list(view.get("blocks", [])))}


def _short_text(view: Json, name: str, *, required: bool) -> list[str]:
    obj = view.get(name)
    pointer = f"[json-pointer:/view/{name}]"
    if obj is None:
        return [f"missing required field: {name} {pointer}"] if required else []
    if not isinstance(obj, dict) or obj.get("type") != "plain_text":
        return [f"must be a plain_text object {pointer}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters {pointer}"]
    if len(text) > 24:
        return [f"must be less than 25 characters {pointer}"]
    return []


class Views:
    """Every view of the workspace: Home tabs by person, modal stacks by person, triggers."""

    def __init__(self, workspace: Workspace, trigger_ttl: float = 3.0) -> None:
        self.ws = workspace
        self.trigger_ttl = trigger_ttl
        self.by_id: dict[str, View] = {}
        self.homes: dict[str, str] = {}
        self.stacks: dict[str, list[str]] = {}
        self.triggers: dict[str, Trigger] = {}

    # ----- triggers ------------------------------------------------------------------------
    def issue_trigger(self, trigger_id: str, user: str) -> str:
        """Remember a trigger_id that was sent to the app with one person's interaction."""
        self.triggers[trigger_id] = Trigger(user, time.monotonic())
        return trigger_id

    def use_trigger(self, trigger_id: str) -> str:
        """The person a trigger_id belongs to; it is spent. Slack's errors otherwise."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise ApiCallError("invalid_trigger_id")
        if trigger.used:
            raise ApiCallError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.trigger_ttl:
            raise ApiCallError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    # ----- Home ----------------------------------------------------------------------------
    def home_of(self, user: str) -> View | None:
        """The Home tab last published for a person."""
        view_id = self.homes.get(user)
        return self.by_id.get(view_id) if view_id else None

    def publish(self, user: str, spec: Json, expected_hash: str | None) -> View:
        """views.publish: replace (or create) a person's Home tab."""
        current = self.home_of(user)
        if expected_hash and current is not None and current.hash != expected_hash:
            raise ApiCallError("hash_conflict")
        self._external_id_free(spec, current)
        if current is None:
            view_id = random_id("V")
            current = View(
                id=view_id,
                user=user,
                type="home",
                spec=spec,
                hash=_new_hash(),
                root_view_id=view_id,
            )
            self.by_id[view_id] = current
            self.homes[user] = view_id
        else:
            current.spec, current.hash, current.errors = spec, _new_hash(), {}
        self._changed(current)
        return current

    # ----- modals --------------------------------------------------------------------------
    def open_modal(self, user: str, spec: Json) -> View:
        """views.open: a new modal stack for the person."""
        self._external_id_free(spec, None)
        for old in self.stacks.pop(user, []):
            self.by_id.pop(old, None)
        view_id = random_id("V")
        view = View(
            id=view_id, user=user, type="modal", spec=spec, hash=_new_hash(), root_view_id=view_id
        )
        self.by_id[view_id] = view
        self.stacks[user] = [view_id]
        self._changed(view)
        return view

    def push_modal(self, user: str, spec: Json) -> View:
        """views.push (or response_action push): a modal on top of the open one."""
        stack = self.stacks.get(user) or []
        if not stack:
            raise ApiCallError("not_found")
        if len(stack) >= MAX_STACK:
            raise ApiCallError("push_limit_reached")
        self._external_id_free(spec, None)
        view_id = random_id("V")
        view = View(
            id=view_id,
            user=user,
            type="modal",
            spec=spec,
            hash=_new_hash(),
            root_view_id=stack[0],
            previous_view_id=stack[-1],
        )
        self.by_id[view_id] = view
        stack.append(view_id)
        self._changed(view)
        return view

    def top_modal(self, user: str) -> View | None:
        """The modal a person sees now (the top of their stack)."""
        stack = self.stacks.get(user) or []
        return self.by_id.get(stack[-1]) if stack else None

    def find(self, view_id: str | None, external_id: str | None) -> View:
        """A view by id or by external_id, or not_found."""
        if view_id:
            view = self.by_id.get(view_id)
        else:
            view = next(
                (v for v in self.by_id.values() if v.spec.get("external_id") == external_id),
                None,
            )
        if view is None:
            raise ApiCallError("not_found")
        return view

    def update(self, view: View, spec: Json, expected_hash: str | None) -> View:
        """views.update (or response_action update): new definition, inputs kept by id."""
        if expected_hash and view.hash != expected_hash:
            raise ApiCallError("hash_conflict")
        if spec.get("type") != view.type:
            raise invalid_arguments(f"must be {view.type} [json-pointer:/view/type]")
        self._external_id_free(spec, view)
        view.spec, view.hash, view.errors = spec, _new_hash(), {}
        self._changed(view)
        return view

    def close(self, view: View, *, everything: bool = False) -> None:
        """Take a modal (or the whole stack) off the screen."""
        stack = self.stacks.get(view.user) or []
        gone = (
            list(stack) if everything else stack[stack.index(view.id) :] if view.id in stack else []
        )
        for view_id in gone:
            stack.remove(view_id)
            self.by_id.pop(view_id, None)
        if not stack:
            self.stacks.pop(view.user, None)
        self._changed(view)

    def show_errors(self, view: View, errors: dict[str, str]) -> None:
        """response_action errors: messages under the named input blocks."""
        view.errors = {str(k): str(v) for k, v in errors.items()}
        self._changed(view)

    def to_json(self, view: View) -> Json:
        """A view as views.* answers and interaction payloads carry it."""
        spec, app = view.spec, self.ws.app
        out: Json = {
            "id": view.id,
            "team_id": self.ws.team_id,
            "type": view.type,
            "blocks": spec.get("blocks", []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": view.values},
            "hash": view.hash,
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "previous_view_id": view.previous_view_id,
            "root_view_id": view.root_view_id,
            "app_id": app.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.ws.team_id,
            "bot_id": app.bot_id,
        }
        for name in ("title", "submit", "close"):
            if name in spec:
                out[name] = spec[name]
        return out

    def _external_id_free(self, spec: Json, current: View | None) -> None:
        external = spec.get("external_id")
        if not external:
            return
        for other in self.by_id.values():
            if other is not current and other.spec.get("external_id") == external:
                raise ApiCallError("duplicate_external_id")

    def _changed(self, view: View) -> None:
        self.ws.emit(Change(kind="view", channel="", user=view.user, data={"view_type": view.type}))


def input_values(view: View, entered: dict[str, Any]) -> Json:
    """The ``state.values`` of a view from what a person typed: {block_id: {action_id: …}}."""
    values: Json = {}
    for block in view.spec.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        action_id = str(element.get("action_id") or "")
        typed = (entered.get(block["block_id"]) or {}).get(action_id)
        values[block["block_id"]] = {
            action_id: {"type": element.get("type", "plain_text_input"), "value": typed or None}
        }
    return values


def missing_inputs(view: View, values: Json) -> dict[str, str]:
    """Required inputs left empty (Slack checks these in the client, before any submission)."""
    missing: dict[str, str] = {}
    for block in view.spec.get("blocks", []):
        if block.get("type") != "input" or block.get("optional"):
            continue
        entry: Json = next(iter((values.get(block["block_id"]) or {}).values()), {})
        if not entry.get("value"):
            missing[block["block_id"]] = "Please complete this required field."
    return missing
