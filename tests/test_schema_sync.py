"""schema.graphql is the exported SDL of the live schema; this fails when they drift."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLObjectType, build_schema

from graph.schema import schema

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_live_schema() -> None:
    live = schema.as_str() + "\n"
    assert SDL_PATH.read_text() == live, (
        "schema.graphql is stale: run `aize-analytics export-schema -o schema.graphql`"
    )


def test_public_entry_points_keep_their_names() -> None:
    # Read as a schema, not as text: described arguments print on lines of their own.
    sdl = build_schema(SDL_PATH.read_text())
    query, organization = sdl.query_type, sdl.type_map["Organization"]
    assert query is not None and isinstance(organization, GraphQLObjectType)
    assert str(query.fields["viewer"].type) == "Viewer!"
    assert str(query.fields["organization"].type) == "Organization!"
    assert str(query.fields["node"].type) == "Node"
    assert str(query.fields["node"].args["id"].type) == "ID!"
    assert str(organization.fields["usage"].args["filter"].type) == "UsageFilter"
    for field in ("currentSpend", "requestLogs", "apiKeys", "members", "wallet", "alerts"):
        assert field in organization.fields, field
