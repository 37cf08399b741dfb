"""Every GraphQL example in the README runs as written, for an Owner, without errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from graphql import parse, validate

from graph.schema import schema
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_graphql_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.split("{")[0].strip())
async def test_readme_example_runs(client: httpx.AsyncClient, example: str) -> None:
    if example.lstrip().startswith("subscription"):
        # A stream: valid against the schema here; tests/test_live_subscriptions.py runs
        # the same cards against a server (this in-process client cannot hold a stream).
        assert validate(schema._schema, parse(example)) == []
        return
    org = await make_org(name="Readme Org", monthly_budget_nanos=100_000_000_000)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    now = datetime.now(UTC)
    await store(
        make_record(org, key, owner, now - timedelta(hours=2), model="gpt-4o", status_code=503),
        make_record(org, key, owner, now - timedelta(days=2)),
    )

    result = await gql(client, await make_token(owner), example)

    assert result.errors is None, result.errors
    assert result.data is not None
