"""Tracing, switched on by OpenTelemetry's standard variables and nothing else.

With no `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp`)
nothing is installed and every span helper records nothing. Otherwise spans are batched and
sent over OTLP/HTTP (protobuf) to the endpoint, under the service name `OTEL_SERVICE_NAME`
(`switchboard` by default), sampled as `OTEL_TRACES_SAMPLER` says. The lifespan that starts
the bot starts this, and flushes what is buffered when it stops. The SDK and its exporter are
imported only when traces are on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import structlog

from agents import tracing
from bot.settings import EnvSettings, without_credentials

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler

log = structlog.stdlib.get_logger(__name__)

SCOPE = "switchboard"


@dataclass
class Telemetry:
    """The installed tracer provider, or None when tracing is off."""

    provider: TracerProvider | None = None

    @property
    def on(self) -> bool:
        return self.provider is not None

    async def flush(self) -> None:
        """Send what is buffered now (the exporter blocks, so it runs in a thread)."""
        if self.provider is not None:
            await asyncio.to_thread(self.provider.force_flush)

    async def close(self) -> None:
        """Flush, stop the exporter's thread, and record nothing more."""
        tracing.uninstall()
        if self.provider is not None:
            provider, self.provider = self.provider, None
            await asyncio.to_thread(provider.shutdown)


def start(env: EnvSettings) -> Telemetry:
    """Install a tracer when the environment asks for traces; a no-op Telemetry otherwise."""
    if not env.traces_on:
        tracing.uninstall()
        return Telemetry()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {SERVICE_NAME: env.otel_service_name, SERVICE_VERSION: version("switchboard")}
    )
    provider = TracerProvider(resource=resource, sampler=sampler(env))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=env.traces_endpoint)))
    tracing.install(
        provider.get_tracer(SCOPE, version("switchboard")),
        capture_content=env.genai_capture_content,
    )
    log.info(
        "tracing.on",
        endpoint=without_credentials(env.traces_endpoint),
        service=env.otel_service_name,
        sampler=env.otel_traces_sampler,
        content=env.genai_capture_content,
    )
    return Telemetry(provider)


def sampler(env: EnvSettings) -> Sampler:
    """The sampler OTEL_TRACES_SAMPLER names, with OTEL_TRACES_SAMPLER_ARG as its ratio."""
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        ALWAYS_ON,
        ParentBased,
        TraceIdRatioBased,
    )

    ratio = env.otel_traces_sampler_arg if env.otel_traces_sampler_arg is not None else 1.0
    choice = env.otel_traces_sampler
    root: Sampler
    if choice.endswith("always_on"):
        root = ALWAYS_ON
    elif choice.endswith("always_off"):
        root = ALWAYS_OFF
    else:
        root = TraceIdRatioBased(ratio)
    return ParentBased(root) if choice.startswith("parentbased_") else root
