"""Query depth: at most AIZE_MAX_QUERY_DEPTH (10) fields from the root to a leaf."""

from __future__ import annotations

import dataclasses

from models.member import Role
from settings import Settings
from tests.factories import GraphQLResult, gql, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app


def _nested(depth: int) -> str:
    """`{ folder { child { ... { name } } } }` with `depth` fields on the longest path."""
    inner = "name"
    for _ in range(depth - 2):
        inner = f"child {{ {inner} }}"
    return f"{{ folder {{ {inner} }} }}"


async def _ask(settings: Settings, query: str) -> GraphQLResult:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    async with client_for(probe_app(settings)) as http:
        return await gql(http, token, query)


async def test_a_query_ten_fields_deep_runs(db: Settings) -> None:
    result = await _ask(db, _nested(10))
    assert result.errors is None
    assert result.data is not None


async def test_a_query_eleven_fields_deep_is_refused_as_too_complex(db: Settings) -> None:
    result = await _ask(db, _nested(11))
    assert result.data is None
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "The query is nested 11 fields deep; at most 10 are allowed."
    )
    assert result.errors[0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "depth": 11, "limit": 10}


async def test_depth_through_fragments_counts_where_they_are_spread(db: Settings) -> None:
    query = """
    query Deep { folder { child { child { ...Five } } } }
    fragment Five on Folder { child { child { child { child { child { ...Three } } } } } }
    fragment Three on Folder { child { child { name } } }
    """
    result = await _ask(db, query)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "'Deep' is nested 11 fields deep; at most 10 are allowed."


async def test_the_depth_limit_follows_the_setting(db: Settings) -> None:
    strict = dataclasses.replace(db, max_query_depth=3)
    assert (await _ask(strict, _nested(3))).errors is None
    assert (await _ask(strict, _nested(4))).error_codes == ["QUERY_TOO_COMPLEX"]


async def test_introspection_is_not_counted_against_the_depth(db: Settings) -> None:
    of_type = "name"
    for _ in range(12):
        of_type = f"ofType {{ {of_type} }}"
    result = await _ask(db, f"{{ __schema {{ types {{ fields {{ type {{ {of_type} }} }} }} }} }}")
    assert result.errors is None


async def test_cyclic_fragments_are_refused_by_validation_without_hanging(db: Settings) -> None:
    query = """
    { folder { ...A } }
    fragment A on Folder { child { ...B } }
    fragment B on Folder { child { ...A } }
    """
    result = await _ask(db, query)
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith("Cannot spread fragment 'A' within itself")
