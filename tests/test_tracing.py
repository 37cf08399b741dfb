"""AIZE_OTEL_TRACES: spans from the HTTP layer, strawberry and (PostgreSQL) asyncpg."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph.schema import schema
from models.member import Role
from observability.tracing import TracingNotInstalled, tracing_extension
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from web.app import create_app

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """An in-memory exporter behind the process's tracer provider (set once per process);
    the schema and asyncpg are put back untraced afterwards."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    extensions = schema.extensions
    _EXPORTER.clear()
    try:
        yield _EXPORTER
    finally:
        schema.extensions = extensions
        instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


async def test_a_traced_query_has_http_graphql_and_database_spans(
    db: Settings, spans: InMemorySpanExporter
) -> None:
    token = await make_token(await make_member(await make_org(name="Traced"), Role.OWNER))
    app = create_app(dataclasses.replace(db, otel_traces=True), manage_database=False)

    async with client_for(app) as client:
        response = await client.post(
            "/graphql",
            json={"query": "query Traced { viewer { role organization { name } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.json()["data"]["viewer"]["role"] == "OWNER"
    assert tracing_extension() in schema.extensions
    names = [span.name for span in spans.get_finished_spans()]
    assert "POST /graphql" in names
    assert "GraphQL Query: Traced" in names
    assert "GraphQL Parsing" in names
    if not db.is_sqlite:
        # asyncpg's spans are named after the statement's first word.
        assert any(name.startswith("SELECT") for name in names), names


async def test_without_the_setting_nothing_is_traced(
    db: Settings, spans: InMemorySpanExporter
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    app = create_app(db, manage_database=False)

    async with client_for(app) as client:
        await client.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert tracing_extension() not in schema.extensions
    assert spans.get_finished_spans() == ()


async def test_without_the_extra_start_up_names_the_missing_package(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.starlette", None)
    extensions = schema.extensions

    with pytest.raises(TracingNotInstalled, match=r"the `otel` extra .*starlette is not installed"):
        create_app(dataclasses.replace(db, otel_traces=True), manage_database=False)

    assert schema.extensions == extensions
