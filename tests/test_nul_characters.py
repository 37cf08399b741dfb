"""Strings the database cannot store (NUL characters, unpaired surrogates) are refused
before anything runs, on both backends alike: GraphQL variables and literals (BAD_USER_INPUT
naming where), bulk ingest lines (that record rejected), export parameters (400)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from models.access_token import Scope
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)

DEPOSIT = 'mutation D($note: String) { depositFunds(amount: "5", note: $note) { note } }'


async def _owner(org: Organization) -> str:
    return await make_token(await make_member(org, Role.OWNER))


async def test_a_nul_in_a_string_literal_is_bad_user_input_and_nothing_runs(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(
        client,
        await _owner(org),
        'mutation { depositFunds(amount: "5", note: "paid\\u0000") { note } }',
    )

    assert result.status == 200
    assert result.data is None
    assert result.errors is not None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("Strings may not contain NUL characters (\\u0000).", "BAD_USER_INPUT")
    ]
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 0


async def test_a_nul_in_a_variable_is_bad_user_input_naming_the_variable(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), DEPOSIT, note="paid\x00")

    assert result.errors is not None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("Variable '$note': strings may not contain NUL characters (\\u0000).", "BAD_USER_INPUT")
    ]
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 0


async def test_a_nul_deep_inside_a_json_variable_is_refused_too(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(
        client,
        await _owner(org),
        "query Q($f: UsageFilter) { organization { usage(filter: $f) { timezone } } }",
        f={"models": ["gpt-4", "gpt\x00-4o"]},
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_strings_without_nul_characters_pass(client: httpx.AsyncClient) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), DEPOSIT, note="paid in full \u00e9\u4e2d")

    assert result.errors is None
    assert result.data == {"depositFunds": {"note": "paid in full \u00e9\u4e2d"}}


def test_only_a_query_that_could_spell_a_nul_has_its_literals_visited() -> None:
    from graph.extensions.document_cache import _has_hooks
    from graph.extensions.nul_characters import nul_rule

    assert not _has_hooks(nul_rule({}, "{ viewer { role } }"))
    assert _has_hooks(nul_rule({}, '{ viewer(note: "a\\u0000") { role } }'))
    assert _has_hooks(nul_rule({}, '{ viewer(note: "a\x00") { role } }'))
    assert _has_hooks(nul_rule({}, None))


# Unpaired surrogates: a JSON body may escape one ("\ud800"); no database driver can encode it.

SURROGATE = "\ud800"
SURROGATE_MESSAGE = "strings may not contain unpaired surrogates (\\ud800 to \\udfff)"


async def _post(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    """POST with the variables escaped as ASCII JSON, as a client's encoder sends them."""
    body = json.dumps({"query": query, "variables": variables})
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return response.status_code, response.json()


@pytest.fixture
async def tokens(db: object) -> dict[str, str]:
    org = await make_org(wallet_balance_nanos=10 * 10**9)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    return {
        "owner": await make_token(owner),
        "ingest": await make_ingest_token(org),
        "key": encode_global_id("ApiKey", key.id),
        "prefix": key.prefix,
    }


def _record(prefix: str, model: str) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "model": model,
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1,
        "outputTokens": 1,
        "latencyMs": 1,
        "statusCode": 200,
        "apiKeyPrefix": prefix,
    }


# (document, variables given the ids and the bad string, token, where the message says it is)
SURROGATE_PLACES: dict[str, tuple[str, Any, str, str]] = {
    "ingest record field": (
        "mutation M($r: [RequestLogInput!]!) { ingestRequestLogs(records: $r) { accepted } }",
        lambda ids, bad: {"r": [_record(ids["prefix"], f"gpt{bad}")]},
        "ingest",
        "Variable '$r' at [0].model",
    ),
    "deposit note": (
        'mutation M($n: String) { depositFunds(amount: "5", note: $n) { note } }',
        lambda ids, bad: {"n": f"paid{bad}"},
        "owner",
        "Variable '$n'",
    ),
    "refund note": (
        'mutation M($n: String) { refundFunds(amount: "1", note: $n) { note } }',
        lambda ids, bad: {"n": bad},
        "owner",
        "Variable '$n'",
    ),
    "key status reason": (
        "mutation M($k: ID!, $why: String) "
        "{ setApiKeyStatus(apiKeyId: $k, status: BLOCKED, reason: $why) { status } }",
        lambda ids, bad: {"k": ids["key"], "why": f"abuse {bad}"},
        "owner",
        "Variable '$why'",
    ),
    "usage filter models": (
        "query Q($f: UsageFilter) { organization { usage(filter: $f) { timezone } } }",
        lambda ids, bad: {"f": {"models": ["gpt-4", bad]}},
        "owner",
        "Variable '$f' at .models[1]",
    ),
    "log filter endpoints": (
        "query Q($f: UsageFilter) { organization { requestLogs(filter: $f) { totalCount } } }",
        lambda ids, bad: {"f": {"endpoints": [bad]}},
        "owner",
        "Variable '$f' at .endpoints[0]",
    ),
    "alert rule email": (
        "mutation M($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }",
        lambda ids, bad: {"i": {"kind": "BUDGET", "email": f"ops{bad}@example.com"}},
        "owner",
        "Variable '$i' at .email",
    ),
    "allowed model list": (
        "mutation M($k: ID!, $m: [String!]) "
        "{ setApiKeyAllowedModels(apiKeyId: $k, models: $m) { id } }",
        lambda ids, bad: {"k": ids["key"], "m": ["gpt-4", bad]},
        "owner",
        "Variable '$m' at [1]",
    ),
}


@pytest.mark.parametrize("place", list(SURROGATE_PLACES))
async def test_an_unpaired_surrogate_in_a_variable_is_bad_user_input_naming_where(
    client: httpx.AsyncClient, tokens: dict[str, str], place: str
) -> None:
    document, variables, token, where = SURROGATE_PLACES[place]

    status, body = await _post(client, tokens[token], document, **variables(tokens, SURROGATE))

    assert status == 200
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (f"{where}: {SURROGATE_MESSAGE}.", "BAD_USER_INPUT")
    ]


async def test_a_surrogate_pair_is_a_character_and_passes(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    status, body = await _post(client, tokens["owner"], DEPOSIT, note="paid \U0001f600")

    assert (status, body["data"]) == (200, {"depositFunds": {"note": "paid \U0001f600"}})


@pytest.mark.parametrize("literal", ["\\ud800", "\\udfff", "\\ud83d"])
async def test_an_unpaired_surrogate_escaped_in_a_literal_is_bad_user_input(
    client: httpx.AsyncClient, tokens: dict[str, str], literal: str
) -> None:
    document = f'mutation {{ depositFunds(amount: "5", note: "a{literal}") {{ note }} }}'

    status, body = await _post(client, tokens["owner"], document)

    assert status == 200
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# Bulk ingest: the JSON lines decoder refuses an unpaired surrogate; only that record goes.


async def test_a_bulk_line_with_an_unpaired_surrogate_is_rejected_alone(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    good = json.dumps(_record(tokens["prefix"], "gpt-4"))
    # JSON-escaped ("\\ud800"), then as the bytes a lax encoder would write for U+DFFF.
    escaped = json.dumps(_record(tokens["prefix"], f"gpt{SURROGATE}"))
    raw = (
        json.dumps(_record(tokens["prefix"], "gpt-4"))
        .encode()
        .replace(b"gpt-4", b"gpt\xed\xbf\xbf")
    )
    body = f"{good}\n{escaped}\n".encode() + raw

    response = await client.post(
        "/ingest/bulk",
        content=body,
        headers={
            "Authorization": f"Bearer {tokens['ingest']}",
            "Content-Type": "application/x-ndjson",
        },
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert [(r["line"], r["field"]) for r in answer["rejected"]] == [(2, None), (3, None)]
    assert all("not valid JSON" in r["reason"] for r in answer["rejected"])
    assert all("surrogate" in r["reason"] for r in answer["rejected"])


# Exports: a parameter holding either is refused with 400 before the export starts.


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("models=gpt%00", "models: strings may not contain NUL characters (\\u0000)"),
        ("endpoints=a%00b", "endpoints: strings may not contain NUL characters (\\u0000)"),
    ],
)
async def test_an_export_parameter_with_a_nul_is_a_400(
    client: httpx.AsyncClient, query: str, message: str
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(make_record(org, key, owner, datetime.now(UTC)))
    token = await make_token(owner, [Scope.READ, Scope.EXPORT])

    response = await client.get(
        f"/export/request-logs.csv?{query}", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BAD_USER_INPUT", "message": message}}


def test_export_parameters_refuse_an_unpaired_surrogate() -> None:
    # Only the CLI can pass one (an argument that is not UTF-8 decodes to surrogates);
    # HTTP query strings decode invalid UTF-8 to U+FFFD.
    from graph.errors import BadUserInputError
    from web.export_params import FILTER_PARAMETERS, ExportParams

    with pytest.raises(BadUserInputError) as refused:
        ExportParams([("models", "gpt\udcff")], FILTER_PARAMETERS)

    assert refused.value.message == f"models: {SURROGATE_MESSAGE}"
