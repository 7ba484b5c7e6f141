"""Traces: the door every span goes through, and a no-op until an entry point installs a tracer.

Agents, the router and the Slack side all open spans here, so whether tracing is on is decided
once, at the edge (`bot.telemetry` reads the standard `OTEL_*` variables), and nothing below it
needs a tracer passed in. With nothing installed every helper costs a function call and
records nothing.

Two rules hold for every span. Exceptions are recorded by type only, never by message: a
provider's error text can echo an API key. And message content (what people and models wrote)
goes into spans only when `capture_content` was turned on.

Work that another task picks up later (an inbox row the worker claims, an outbox row the sender
posts, an approval someone clicks hours later) carries its span context as a W3C `traceparent`
string, so the later work joins the same trace (or links to it) even on another replica.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

Attributes = Mapping[str, AttributeValue | None]

_PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"


@dataclass(frozen=True)
class _Installed:
    tracer: trace.Tracer
    capture_content: bool


_OFF = _Installed(trace.NoOpTracer(), capture_content=False)
_state: list[_Installed] = [_OFF]  # one slot, replaced whole: readers never see half a change


def install(tracer: trace.Tracer, *, capture_content: bool = False) -> None:
    """Spans from now on go to `tracer` (the entry point's, built from the OTEL_* settings)."""
    _state[0] = _Installed(tracer, capture_content)


def uninstall() -> None:
    """Back to recording nothing (at shutdown, after the last spans were flushed)."""
    _state[0] = _OFF


def capture_content() -> bool:
    """Whether spans may carry message content (prompts, replies, tool arguments)."""
    return _state[0].capture_content


def enabled() -> bool:
    return _state[0] is not _OFF


@contextmanager
def span(
    name: str,
    attributes: Attributes | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: str | Context | None = None,
    root: bool = False,
    links: Sequence[Link] = (),
) -> Iterator[Span]:
    """A span around the block, current inside it; an exception marks it failed, by type only.

    `parent` is a stored traceparent (or a context) to continue; `root` starts a new trace
    whatever is current (work a stored row hands over, with no context of its own).
    """
    context = parent if isinstance(parent, Context) else context_of(parent)
    if context is None and root:
        context = Context()
    with _state[0].tracer.start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=clean(attributes),
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            failed(current, exc)
            raise


def failed(current: Span, exc: BaseException) -> None:
    """Mark a span failed with the exception's type: never its message, which may hold a key."""
    name = type(exc).__name__
    current.set_attribute("error.type", name)
    current.set_status(Status(StatusCode.ERROR, name))


def fail_current(exc: BaseException) -> None:
    """Mark the current span failed (work that catches its own errors, like a turn)."""
    current = trace.get_current_span()
    if current.is_recording():
        failed(current, exc)


def annotate(attributes: Attributes) -> None:
    """Add attributes to the current span (a no-op when there is none)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(clean(attributes))


def traceparent() -> str | None:
    """The current span as a W3C traceparent, for a row that another task continues later."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_of(value: str | None) -> Context | None:
    """The context a stored traceparent names, to continue its trace; None if there is none."""
    if not value:
        return None
    context = _PROPAGATOR.extract({TRACEPARENT: value}, context=Context())
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def link_to(value: str | None) -> list[Link]:
    """A link to the span a stored traceparent names (a click to the turn that asked)."""
    context = context_of(value)
    if context is None:
        return []
    return [Link(trace.get_current_span(context).get_span_context())]


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids as hex, for log lines; None outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def clean(attributes: Attributes | None) -> dict[str, AttributeValue]:
    return {k: v for k, v in (attributes or {}).items() if v is not None}
