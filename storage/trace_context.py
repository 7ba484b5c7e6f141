"""Rows that another task continues later carry the trace context current when they were written.

An inbox row is claimed by the worker, an outbox row posted by the sender, an approval decided
by a click hours later, perhaps on another replica. Each is written with the W3C `traceparent`
of the span at hand, so that later work joins (or links to) the same trace. Storage knows
nothing of tracing: the entry point hands the repositories a function that says what is current.
"""

from __future__ import annotations

from collections.abc import Callable

TraceContext = Callable[[], str | None]


def no_trace_context() -> str | None:
    """Tracing is not wired (tests of storage alone, CLI commands): rows carry nothing."""
    return None
