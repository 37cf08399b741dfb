"""docs/readme/directory.md: its examples run as printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from graphql import parse, validate

from graph.schema import schema
from models.api_key import ApiKey, KeyStatus
from tests.directory_support import make_directory_token, post_directory
from tests.factories import gql, make_org

DOC = (Path(__file__).resolve().parent.parent / "docs" / "readme" / "directory.md").read_text()
GRAPHQL = re.findall(r"```graphql\n(.*?)```", DOC, re.S)
JSON = re.findall(r"```json\n(.*?)```", DOC, re.S)
VARIABLES = re.search(r"^Variables: `(\{\"records\".*?\})`$", DOC, re.M)


def test_the_documented_mutation_is_valid() -> None:
    [document] = GRAPHQL
    assert validate(schema._schema, parse(document)) == []


async def test_the_documented_records_sync_as_printed(client: httpx.AsyncClient) -> None:
    org = await make_org()
    records = [json.loads(line) for line in JSON[0].strip().splitlines()]

    response = await post_directory(client, await make_directory_token(org), records)

    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0, "rejected": []}
    revoked = await ApiKey.get(organization_id=org.id, external_id="key_4410")
    assert (revoked.status, revoked.status_reason) == (KeyStatus.REVOKED, "rotated")


async def test_the_documented_mutation_variables_sync(client: httpx.AsyncClient) -> None:
    org = await make_org()
    assert VARIABLES is not None
    variables = json.loads(VARIABLES.group(1))

    result = await gql(client, await make_directory_token(org), GRAPHQL[0], **variables)

    assert result.data == {
        "syncDirectory": {"created": 2, "updated": 0, "unchanged": 0, "rejected": []}
    }
