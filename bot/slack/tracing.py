"""The Slack side's spans: an event's intake, its turn, each post, and approval clicks.

One Slack event is one trace. The intake span is its root, opened where the event is written
down before Slack's ack; the inbox row carries it, so the worker's turn span (on this replica or
another, after a crash) is its child, and so is everything the turn does: the route decision,
the agents and their model and tool calls, the approvals asked for. The outbox rows the turn
queues carry the turn's span, so each post to Slack joins the trace too.

A click on an approval card comes hours later, from someone else: it starts its own trace,
linked to the span that asked for the approval, and what the click sets off (the tool, the
agent's follow-up, the card's update) is inside it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from opentelemetry.trace import SpanKind

from agents import tracing
from bot.slack.turns import memory_thread
from router.turn import Turn
from storage.store import Store
from storage.tables import OutboxMessage

P = ParamSpec("P")
S = TypeVar("S")
T = TypeVar("T")

_METHODS = {"update": "chat.update", "ephemeral": "chat.postEphemeral"}


@contextmanager
def intake(body: Mapping[str, Any], event: Mapping[str, Any]) -> Iterator[None]:
    """The root of an event's trace, around writing it down (Slack sends no trace context)."""
    kind = str(event.get("type"))
    attributes = {
        "slack.event_id": str(body.get("event_id") or ""),
        "slack.event.type": kind,
        "slack.team_id": str(body.get("team_id") or ""),
        "slack.channel": str(event.get("channel") or ""),
        "slack.thread_ts": memory_thread(dict(event)),
        "slack.ts": str(event.get("ts") or ""),
    }
    with tracing.span(f"slack.event {kind}", attributes, kind=SpanKind.SERVER, root=True):
        yield


@contextmanager
def turn(current: Turn, trace_context: str | None) -> Iterator[None]:
    """The worker's turn, a child of the event's intake span when the inbox row carries it."""
    attributes = {
        "slack.event_id": current.event_id,
        "slack.team_id": current.team_id,
        "slack.channel": current.channel,
        "slack.thread_ts": current.thread_ts,
        "slack.user_id": current.user_id,
    }
    with tracing.span("turn", attributes, parent=trace_context, root=True):
        yield


def posted(
    post: Callable[[S, OutboxMessage], Awaitable[str | None]],
) -> Callable[[S, OutboxMessage], Awaitable[str | None]]:
    """Wrap the sender's Web API call: a CLIENT span in the trace of the work that queued it."""

    @functools.wraps(post)
    async def traced(self: S, row: OutboxMessage) -> str | None:
        method = _METHODS.get(row.kind, "chat.postMessage")
        attributes = {
            "rpc.system": "slack_web_api",
            "rpc.method": method,
            "switchboard.outbox.id": row.id,
            "switchboard.outbox.attempt": row.attempts,
            "slack.channel": row.channel,
            "slack.thread_ts": row.thread_ts,
        }
        with tracing.span(
            f"slack {method}",
            attributes,
            kind=SpanKind.CLIENT,
            parent=row.trace_context,
            root=True,
        ) as span:
            ts = await post(self, row)
            if ts:
                span.set_attribute("slack.ts", ts)
            return ts

    return traced


@contextmanager
def web_call(
    method: str, channel: str, thread_ts: str | None, parent: str | None
) -> Iterator[None]:
    """A Web API call made outside the outbox (a streamed reply's start, appends and stop),
    in the trace of the turn whose reply it writes."""
    attributes = {
        "rpc.system": "slack_web_api",
        "rpc.method": method,
        "slack.channel": channel,
        "slack.thread_ts": thread_ts,
    }
    with tracing.span(f"slack {method}", attributes, kind=SpanKind.CLIENT, parent=parent):
        yield


class _Desk(Protocol):
    @property
    def store(self) -> Store: ...


D = TypeVar("D", bound=_Desk)
Decide = Callable[Concatenate[D, str, str, P], Awaitable[T]]


def clicked(decision: str) -> Callable[[Decide[D, P, T]], Decide[D, P, T]]:
    """Wrap a desk's decision (a button, the Home tab, `/switchboard approve`): a new trace,
    linked to the span that asked for the approval, ending with the approval's status."""

    def wrap(decide: Decide[D, P, T]) -> Decide[D, P, T]:
        @functools.wraps(decide)
        async def traced(
            self: D, approval_id: str, user: str, /, *args: P.args, **kwargs: P.kwargs
        ) -> T:
            if not tracing.enabled():
                return await decide(self, approval_id, user, *args, **kwargs)
            asked = await self.store.approvals.get(approval_id)
            attributes = {"switchboard.approval.id": approval_id, "slack.user_id": user}
            with tracing.span(
                f"approval.{decision}",
                attributes,
                root=True,
                links=tracing.link_to(asked.trace_context if asked else None),
            ) as span:
                result = await decide(self, approval_id, user, *args, **kwargs)
                after = await self.store.approvals.get(approval_id)
                if after is not None:
                    span.set_attribute("switchboard.approval.status", after.status)
                return result

        return traced

    return wrap
