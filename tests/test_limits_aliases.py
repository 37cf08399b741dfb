"""Aliases: at most AIZE_MAX_ALIASES (15) per operation, counted as executed (fragments
count once per spread)."""

from __future__ import annotations

import dataclasses
import time

import httpx

from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


def _aliases(count: int) -> str:
    return " ".join(f"a{n}: role" for n in range(count))


async def test_fifteen_aliases_run(client: httpx.AsyncClient) -> None:
    result = await gql(client, await _owner_token(), f"{{ viewer {{ {_aliases(15)} }} }}")
    assert result.errors is None
    assert result.data is not None
    assert result.data["viewer"]["a14"] == "OWNER"


async def test_sixteen_aliases_are_refused_as_too_complex(client: httpx.AsyncClient) -> None:
    result = await gql(client, await _owner_token(), f"{{ viewer {{ {_aliases(16)} }} }}")
    assert result.data is None
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "The query uses 16 aliases (fragments count once per spread); at most 15 are allowed."
    )
    assert result.errors[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "aliases": 16,
        "limit": 15,
    }


async def test_a_fragment_with_5_aliases_spread_4_times_counts_20(
    client: httpx.AsyncClient,
) -> None:
    query = """
    query Spread {
      a: viewer { ...Five }
      viewer { ...Five }
      organization { name }
      v: viewer { ...Five organization { name } }
      w: viewer { ...Five }
    }
    fragment Five on Viewer { r1: role r2: role r3: role r4: role r5: role }
    """
    # 3 aliases on the viewers + 4 spreads x 5 = 23
    result = await gql(client, await _owner_token(), query)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["extensions"]["aliases"] == 23


async def test_a_fragment_with_5_aliases_spread_3_times_without_other_aliases_runs(
    client: httpx.AsyncClient,
) -> None:
    query = """
    { viewer { ...Five member { name } organization { ...Org } } }
    fragment Five on Viewer { r1: role r2: role r3: role r4: role r5: role }
    fragment Org on Organization { members { ...Person } apiKeys { owner { ...Person } } }
    fragment Person on Member { n1: name n2: name n3: name n4: name n5: name }
    """
    result = await gql(client, await _owner_token(), query)
    assert result.errors is None


async def test_aliases_in_fragments_inside_fragments_multiply(client: httpx.AsyncClient) -> None:
    query = """
    { viewer { ...Twice } }
    fragment Twice on Viewer { ...Four ...Four }
    fragment Four on Viewer { r1: role r2: role r3: role r4: role ...Two ...Two }
    fragment Two on Viewer { s1: role s2: role }
    """
    # Twice = 2 x Four; Four = 4 + 2 x 2 = 8 -> 16
    result = await gql(client, await _owner_token(), query)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["extensions"]["aliases"] == 16


async def test_a_fragment_bomb_is_counted_without_expanding_it(db: Settings) -> None:
    # 30 levels of fragments each spreading the next twice: 2**30 aliases when expanded.
    levels = 30
    fragments = [f"fragment L{n} on Folder {{ ...L{n + 1} ...L{n + 1} }}" for n in range(levels)]
    fragments.append(f"fragment L{levels} on Folder {{ x: name }}")
    query = "{ folder { ...L0 } } " + " ".join(fragments)
    app = probe_app(dataclasses.replace(db, max_query_tokens=5_000))
    async with client_for(app) as http:
        started = time.perf_counter()
        result = await gql(http, await _owner_token(), query)
        elapsed = time.perf_counter() - started
    assert result.error_codes[0] == "QUERY_TOO_COMPLEX"
    assert result.errors is not None
    assert result.errors[0]["extensions"]["aliases"] == 2**30
    assert elapsed < 5


async def test_the_alias_limit_follows_the_setting(db: Settings) -> None:
    token = await _owner_token()
    async with client_for(probe_app(dataclasses.replace(db, max_aliases=2))) as http:
        allowed = await gql(http, token, "{ a: folder { name } b: folder { name } }")
        refused = await gql(http, token, "{ a: folder { name } b: folder { c: name } }")
    assert allowed.errors is None
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]
