"""graph.extensions.input_size: documents over AIZE_MAX_QUERY_BYTES, and strings over
AIZE_MAX_STRING_BYTES in literals or variables, are refused before anything runs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from graphql import parse
from starlette.applications import Starlette

from graph.input_size import VariablesRefusal, refuse_variables
from graph.schema import schema
from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from settings import Settings
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token
from tests.http_clients import client_for
from web.app import create_app

STRING_LIMIT = 1024
QUERY_LIMIT = 8192
USAGE_OF_MODELS = "{ organization { usage(filter: {models: [MODELS]}) { totals { requests } } } }"


def _app(db: Settings) -> Starlette:
    limits = dataclasses.replace(db, max_string_bytes=STRING_LIMIT, max_query_bytes=QUERY_LIMIT)
    return create_app(limits, manage_database=False)


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


async def _ask(db: Settings, query: str, **variables: Any) -> Any:
    async with client_for(_app(db)) as http:
        return await gql(http, await _owner_token(), query, **variables)


async def test_a_document_over_the_query_limit_is_refused_before_parsing(db: Settings) -> None:
    query = "{ viewer { role } } #" + "x" * QUERY_LIMIT

    result = await _ask(db, query)

    assert result.status == 200
    assert result.data is None
    assert result.errors == [
        {
            "message": (
                "The query document is larger than 8192 bytes (AIZE_MAX_QUERY_BYTES); send "
                "long values as variables."
            ),
            "extensions": {"code": "BAD_USER_INPUT", "limit": QUERY_LIMIT},
        }
    ]


async def test_a_string_literal_over_the_limit_is_refused_naming_its_argument(
    db: Settings,
) -> None:
    # 1025 bytes: 1023 ASCII letters and one two-byte letter.
    model = "A" * 1023 + "é"
    query = USAGE_OF_MODELS.replace("MODELS", f'"gpt-4", "{model}"')

    result = await _ask(db, query)

    assert result.data is None
    assert result.errors == [
        {
            "message": (
                "The string at organization.usage(filter).models[1] is longer than 1024 "
                "bytes (AIZE_MAX_STRING_BYTES)."
            ),
            "locations": [{"line": 1, "column": 51}],
            "extensions": {"code": "BAD_USER_INPUT", "limit": STRING_LIMIT},
        }
    ]


async def test_a_string_literal_of_exactly_the_limit_is_accepted(db: Settings) -> None:
    model = "A" * STRING_LIMIT
    query = USAGE_OF_MODELS.replace("MODELS", f'"{model}"')

    result = await _ask(db, query)

    assert result.errors is None
    assert result.data == {"organization": {"usage": {"totals": {"requests": 0}}}}


async def test_a_variable_string_over_the_limit_is_refused_naming_its_path(db: Settings) -> None:
    query = "query($f: UsageFilter) { organization { usage(filter: $f) { totals { requests } } } }"

    result = await _ask(db, query, f={"models": ["gpt-4", "B" * (STRING_LIMIT + 1)]})

    assert result.data is None
    assert result.errors == [
        {
            "message": "Variable '$f.models[1]' is longer than 1024 bytes (AIZE_MAX_STRING_BYTES).",
            "extensions": {"code": "BAD_USER_INPUT", "limit": STRING_LIMIT},
        }
    ]


INGEST = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) { accepted rejected { field reason } }
}
"""


def _record(key_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 10,
        "outputTokens": 5,
        "latencyMs": 300,
        "statusCode": 200,
        "apiKeyId": key_id,
        **fields,
    }


async def test_logged_bodies_may_exceed_the_string_limit(db: Settings) -> None:
    org = await make_org(log_bodies=True)
    key = await make_key(org, owner=await make_member(org))
    body = "{" + "p" * (4 * STRING_LIMIT) + "}"
    record = _record(encode_global_id("ApiKey", key.id), requestBody=body, responseBody=body)

    async with client_for(_app(db)) as http:
        result = await gql(http, await make_ingest_token(org), INGEST, records=[record])

    assert result.errors is None
    assert result.data == {"ingestRequestLogs": {"accepted": 1, "rejected": []}}
    stored = await RequestLog.get(organization_id=org.id)
    assert stored.request_body == body


async def test_other_ingest_strings_are_bounded_naming_the_record(db: Settings) -> None:
    org = await make_org()
    key_id = encode_global_id("ApiKey", (await make_key(org)).id)
    records = [_record(key_id), _record(key_id, errorMessage="e" * (STRING_LIMIT + 1))]

    async with client_for(_app(db)) as http:
        result = await gql(http, await make_ingest_token(org), INGEST, records=records)

    assert result.data is None
    assert result.errors == [
        {
            "message": (
                "Variable '$records[1].errorMessage' is longer than 1024 bytes "
                "(AIZE_MAX_STRING_BYTES)."
            ),
            "extensions": {"code": "BAD_USER_INPUT", "limit": STRING_LIMIT},
        }
    ]
    assert await RequestLog.filter(organization_id=org.id).count() == 0


def test_strings_inside_json_metadata_and_keys_are_bounded() -> None:
    long = "m" * 2000
    in_value = {"records": [{"metadata": {"a": [{"b": long}]}}]}
    as_key = {"records": [{"metadata": {long: 1}}]}

    assert refuse_variables(schema._schema, parse(INGEST), in_value, 1024) == VariablesRefusal(
        "Variable '$records[0].metadata.a[0].b' is longer than 1024 bytes (AIZE_MAX_STRING_BYTES).",
        1024,
    )
    refusal = refuse_variables(schema._schema, parse(INGEST), as_key, 1024)
    assert refusal is not None and refusal.message.startswith("Variable '$records[0].metadata.mmm")


def test_variables_nested_deeper_than_python_recursion_are_walked() -> None:
    nested: Any = "leaf"
    for _ in range(5000):
        nested = {"n": nested}

    refusal = refuse_variables(
        schema._schema, parse(INGEST), {"records": [{"metadata": nested}]}, 1024
    )

    assert refusal is None


def test_variables_holding_too_many_values_are_refused() -> None:
    records = [{"metadata": {"v": list(range(9))}}] * 10  # 10 x (record, metadata, list, 9)

    at_limit = refuse_variables(schema._schema, parse(INGEST), {"records": records}, 1024, 121)
    over = refuse_variables(schema._schema, parse(INGEST), {"records": records}, 1024, 120)

    assert at_limit is None
    assert over == VariablesRefusal(
        "The variables hold more than 120 values; send large batches of request logs to "
        "POST /ingest/bulk.",
        120,
    )


def test_variables_the_document_does_not_declare_are_not_walked() -> None:
    undeclared = {"pad": ["x" * 2000] * 10}

    assert refuse_variables(schema._schema, parse(INGEST), undeclared, 1024, 5) is None


def test_the_string_and_query_limits_default_and_are_read_from_the_environment() -> None:
    defaults = Settings.from_env({})
    configured = Settings.from_env(
        {"AIZE_MAX_STRING_BYTES": "2048", "AIZE_MAX_QUERY_BYTES": "10000"}
    )

    assert (defaults.max_string_bytes, defaults.max_query_bytes) == (65536, 131072)
    assert (configured.max_string_bytes, configured.max_query_bytes) == (2048, 10000)


async def test_the_product_client_is_unaffected(client: httpx.AsyncClient) -> None:
    result = await gql(client, await _owner_token(), "{ viewer { role } }")

    assert result.data == {"viewer": {"role": "OWNER"}}
