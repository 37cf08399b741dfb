"""schema.graphql is the exported SDL of the live schema; this fails when they drift."""

from __future__ import annotations

from pathlib import Path

from graph.schema import schema

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_live_schema() -> None:
    live = schema.as_str() + "\n"
    assert SDL_PATH.read_text() == live, (
        "schema.graphql is stale: run `aize-analytics export-schema -o schema.graphql`"
    )


def test_public_entry_points_keep_their_names() -> None:
    sdl = SDL_PATH.read_text()
    for entry_point in (
        "viewer: Viewer!",
        "organization: Organization!",
        "node(id: ID!): Node",
        "usage(filter: UsageFilter",
        "currentSpend",
        "requestLogs(",
        "apiKeys",
        "members",
        "wallet",
        "alerts(",
    ):
        assert entry_point in sdl, entry_point
