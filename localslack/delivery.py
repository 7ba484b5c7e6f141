"""Deliveries to the app: one record per thing sent, with every attempt, whatever the transport.

A ``Delivery`` is an event, a slash command, an interaction or a url_verification, sent over
HTTP or Socket Mode. Its attempts show what Slack would have done (retry number, reason,
status), which is what retry and dedupe tests assert on. The ``Dispatcher`` picks the
transport from the config at send time and tells a callback when a delivery settles, so the
slash command's answer or failure can be shown to the user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .errors import WaitTimeoutError
from .ids import random_id
from .models import Json
from .signals import Signal

DeliveryKind = Literal["event", "slash_command", "interactive", "url_verification"]
DeliveryState = Literal["pending", "acked", "failed", "dropped"]


@dataclass(kw_only=True)
class DeliveryAttempt:
    """One try at delivering: the retry number Slack would send and what came back."""

    number: int
    transport: str
    started: float
    retry_reason: str | None = None
    envelope_id: str | None = None
    status: int | None = None
    error: str | None = None
    finished: float | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the app answered in time with a 2xx (or acked the envelope)."""
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(kw_only=True)
class Delivery:
    """Something sent to the app, and all attempts at it."""

    id: str
    kind: DeliveryKind
    payload: Json
    created: float = field(default_factory=time.time)
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    state: DeliveryState = "pending"
    response: Json | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def event_id(self) -> str | None:
        """The event_id of an event delivery."""
        value = self.payload.get("event_id")
        return value if isinstance(value, str) else None

    @property
    def event_type(self) -> str | None:
        """The inner event's type ("message", "app_mention") of an event delivery."""
        event = self.payload.get("event")
        return event.get("type") if isinstance(event, dict) else None

    async def wait(self, within: float) -> Delivery:
        """Wait until acked or given up (retries exhausted); return self."""
        try:
            async with asyncio.timeout(within):
                await self.settled.wait()
        except TimeoutError:
            raise WaitTimeoutError(
                f"Delivery {self.id} ({self.kind}) not settled after {within:g} s; "
                f"attempts so far: {len(self.attempts)}."
            ) from None
        return self


class Transport(Protocol):
    """How deliveries leave: signed HTTP requests or Socket Mode envelopes."""

    name: str

    def submit(self, delivery: Delivery) -> None:
        """Start delivering (returns at once; attempts run in the background)."""

    def describe(self) -> str:
        """One line for people: where deliveries go."""

    async def close(self) -> None:
        """Stop background work."""


SettledCallback = Callable[[Delivery], None]


class Dispatcher:
    """Creates deliveries, hands them to the active transport, records their outcome."""

    def __init__(self, signal: Signal, *, hold_until_attached: bool = False) -> None:
        self.deliveries: list[Delivery] = []
        self.transport: Transport | None = None
        self.on_settled: list[SettledCallback] = []
        self._signal = signal
        # An app that is set up to receive events but not connected yet (it is still starting)
        # gets them when it connects, as Slack keeps retrying, instead of losing them.
        self.hold_until_attached = hold_until_attached
        self._waiting: list[Delivery] = []

    def send(self, kind: DeliveryKind, payload: Json, delivery_id: str | None = None) -> Delivery:
        """Record a delivery and submit it to the transport (or hold it, or mark it dropped)."""
        ident = delivery_id or payload.get("event_id") or random_id("D", 12)
        delivery = Delivery(id=str(ident), kind=kind, payload=payload)
        self.deliveries.append(delivery)
        if self.transport is not None:
            self.transport.submit(delivery)
        elif self.hold_until_attached:
            self._waiting.append(delivery)
        else:
            self.settle(delivery, "dropped")
        self._signal.notify()
        return delivery

    def attach(self, transport: Transport | None) -> None:
        """Deliver through `transport` from now on, starting with what waited for it."""
        self.transport = transport
        if transport is None:
            return
        waiting, self._waiting = self._waiting, []
        for delivery in waiting:
            transport.submit(delivery)

    def record(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        """Note a new or finished attempt (wakes waiters)."""
        if attempt not in delivery.attempts:
            delivery.attempts.append(attempt)
        self._signal.notify()

    def settle(self, delivery: Delivery, state: DeliveryState, response: Any = None) -> None:
        """Mark a delivery acked, failed or dropped, once; tell the callbacks."""
        if delivery.settled.is_set():
            return
        delivery.state = state
        if isinstance(response, dict):
            delivery.response = response
        delivery.settled.set()
        for callback in list(self.on_settled):
            callback(delivery)
        self._signal.notify()

    def describe(self) -> str:
        """Where deliveries go now, for the page."""
        if self.transport is None:
            return "nowhere: no app connected (events are recorded, not sent)"
        return self.transport.describe()

    def events(self, event_type: str | None = None) -> list[Delivery]:
        """Event deliveries, optionally of one inner event type."""
        return [
            d
            for d in self.deliveries
            if d.kind == "event" and (event_type is None or d.event_type == event_type)
        ]
