"""Every query in docs/readme/usage.md runs as written (an Owner, a small organization)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

DOC = Path(__file__).resolve().parent.parent / "docs" / "readme" / "usage.md"
QUERIES = re.findall(r"```graphql\n(.*?)```", DOC.read_text(), re.S)


def test_the_usage_doc_has_every_example() -> None:
    names = [re.match(r"query (\w+)", q).group(1) for q in QUERIES]  # type: ignore[union-attr]
    assert names == [
        "SlowRequestsCost",
        "Dashboard",
        "CostPerKeyAndModel",
        "CostPerProvider",
        "Latency",
        "Errors",
        "Growth",
        "Budget",
        "PerKey",
    ]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.split()[1])
async def test_documented_query_runs_without_errors(client: httpx.AsyncClient, query: str) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000, monthly_budget_nanos=10**11)
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, member)
    now = datetime.now(UTC)
    await store(
        make_record(org, key, member, now - timedelta(hours=2)),
        make_record(
            org,
            key,
            member,
            now - timedelta(hours=3),
            status_code=429,
            error_message="Rate limit exceeded, retry in 20s",
        ),
    )

    result = await gql(client, await make_token(owner), query)

    assert result.errors is None, result.errors
    assert result.data is not None
