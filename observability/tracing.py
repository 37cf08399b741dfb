"""AIZE_OTEL_TRACES: OpenTelemetry traces through the maintained instrumentation packages.

Install the `otel` extra (`pip install -e '.[otel]'`). Spans come from
opentelemetry-instrumentation-starlette (one per HTTP request), strawberry's
OpenTelemetryExtension (parse, validate, execute and every resolver) and
opentelemetry-instrumentation-asyncpg (every PostgreSQL statement). Where they go is the
SDK's standard configuration: OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP, default
http://localhost:4318), OTEL_SERVICE_NAME (default `aize-analytics`), OTEL_TRACES_SAMPLER...

Cost: strawberry's extension has a `resolve` hook, which turns graph/execution.py's short
path for plain fields off (every field goes through graphql-core's machinery again), so
traced requests are slower; docs/readme/integrations.md gives the measured figure. Keep
OTEL_TRACES_SAMPLER at a ratio in production; the hook still runs for unsampled requests.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension

DEFAULT_SERVICE_NAME = "aize-analytics"


class TracingNotInstalled(RuntimeError):
    """AIZE_OTEL_TRACES is on but the `otel` extra is not installed."""


def tracing_extension() -> type[SchemaExtension]:
    """strawberry's OpenTelemetry extension class (raises TracingNotInstalled without it)."""
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError as exc:
        raise TracingNotInstalled(_missing(exc)) from None
    return OpenTelemetryExtension


def configure_provider() -> None:
    """An SDK tracer provider exporting over OTLP/HTTP, unless one is already set."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # configured by the embedding process (or a test)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    name = os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def instrument_app(app: Starlette, graphql_schema: Any) -> None:
    """Trace `app`'s requests, `graphql_schema`'s operations and PostgreSQL statements."""
    try:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.starlette import StarletteInstrumentor
    except ImportError as exc:
        raise TracingNotInstalled(_missing(exc)) from None
    configure_provider()
    extension = tracing_extension()
    if extension not in graphql_schema.extensions:
        # Process-wide: the schema object is shared, as are the tracer provider and asyncpg.
        graphql_schema.extensions = (*graphql_schema.extensions, extension)
    StarletteInstrumentor.instrument_app(app)
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def _missing(exc: ImportError) -> str:
    return (
        f"AIZE_OTEL_TRACES needs the `otel` extra (pip install -e '.[otel]'): {exc.name} is "
        "not installed"
    )
