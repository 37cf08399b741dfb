"""Every error carries a stable code; unexpected ones are masked behind an error id."""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from graph.errors import ErrorCode
from models.member import Role
from settings import Settings
from tests.factories import (
    GraphQLResult,
    gql,
    make_ingest_token,
    make_member,
    make_org,
    make_token,
)
from tests.http_clients import client_for
from tests.probe_schema import probe_app


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


async def _probe(db: Settings, query: str) -> GraphQLResult:
    token = await _owner_token()
    async with client_for(probe_app(db)) as http:
        return await gql(http, token, query)


async def test_no_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { role } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_permission_refusal_is_forbidden(client: httpx.AsyncClient) -> None:
    org = await make_org()
    result = await gql(client, await make_ingest_token(org), "{ organization { name } }")
    assert result.error_codes == ["FORBIDDEN"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "This token cannot read analytics (ingest tokens can only ingest)."
    )


async def test_a_forbidden_error_from_the_data_layer_is_forbidden(db: Settings) -> None:
    result = await _probe(db, "{ forbidden }")
    assert result.errors == [
        {
            "message": "Only Admins and Owners can see this.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["forbidden"],
            "extensions": {"code": "FORBIDDEN"},
        }
    ]


@pytest.mark.parametrize(
    ("field", "message"),
    [("missing", "apiKeyId: no such API key"), ("missingCoded", "alertRuleId: no such alert rule")],
)
async def test_something_missing_is_not_found(db: Settings, field: str, message: str) -> None:
    result = await _probe(db, f"{{ {field} }}")
    assert result.error_codes == ["NOT_FOUND"]
    assert result.errors is not None
    assert result.errors[0]["message"] == message


async def test_bad_input_from_the_data_layer_is_bad_user_input(db: Settings) -> None:
    result = await _probe(db, "{ badInput }")
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "filter.timezone: 'Mars/Olympus' is not an IANA time zone"
    )


async def test_validation_errors_are_bad_user_input(client: httpx.AsyncClient) -> None:
    result = await gql(client, await _owner_token(), "{ viewer { rol } }")
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_validation_errors_never_suggest_schema_names(client: httpx.AsyncClient) -> None:
    token = await _owner_token()
    unknown_field = await gql(client, token, "{ viewer { rol } }")
    unknown_argument = await gql(
        client, token, "{ organization { requestLogs(frist: 2) { pageInfo { hasNextPage } } } }"
    )
    unknown_type = await gql(client, token, "query Q($f: UsageFiltr) { viewer { role } }")

    assert unknown_field.errors is not None
    assert unknown_field.errors[0]["message"] == "Cannot query field 'rol' on type 'Viewer'."
    for result in (unknown_field, unknown_argument, unknown_type):
        assert result.errors is not None
        assert all("Did you mean" not in e["message"] for e in result.errors), result.errors


async def test_a_bad_argument_value_is_bad_user_input(client: httpx.AsyncClient) -> None:
    result = await gql(
        client,
        await _owner_token(),
        "query Q($n: Int) { organization { requestLogs(first: $n) { pageInfo { hasNextPage } } } }",
        n="ten",
    )
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_a_limit_refusal_is_query_too_complex(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{n}: role" for n in range(16))
    result = await gql(client, await _owner_token(), f"{{ viewer {{ {aliases} }} }}")
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]


async def test_an_exhausted_budget_is_rate_limited(db: Settings) -> None:
    token = await _owner_token()
    slow_refill = dataclasses.replace(
        db, rate_limit_capacity=10, rate_limit_refill_per_second=1, max_query_cost=10
    )
    app = probe_app(slow_refill)
    query = "{ " + " ".join(f"f{n}: folder {{ name }}" for n in range(4)) + " }"
    async with client_for(app) as http:
        first = await gql(http, token, query)
        second = await gql(http, token, query)
    assert first.errors is None
    assert second.status == 429
    assert second.error_codes == ["RATE_LIMITED"]


async def test_an_unexpected_exception_is_masked_and_logged_under_the_same_id(
    db: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aize.graphql"):
        result = await _probe(db, "{ boom }")

    assert result.errors is not None
    error = result.errors[0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL"
    error_id = error["extensions"]["errorId"]
    assert len(error_id) == 16
    assert "10.0.0.7" not in str(result.errors)
    logged = [r for r in caplog.records if r.name == "aize.graphql" and error_id in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "password authentication" in str(logged[0].exc_info[1])


async def test_every_error_code_in_the_contract_is_one_of_eight() -> None:
    assert {code.value for code in ErrorCode} == {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "RATE_LIMITED",
        "QUERY_TOO_COMPLEX",
        "SERVICE_UNAVAILABLE",
        "INTERNAL",
    }


async def test_an_error_raised_by_an_extension_hook_is_masked_too(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.extensions import query_cost

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("cost model bug: /srv/aize/graph/limits.py line 200")

    monkeypatch.setattr(query_cost, "actual_cost", broken)
    result = await _probe(db, "{ folder { name } }")

    assert result.errors is not None
    assert [e["message"] for e in result.errors] == ["Unexpected error."]
    assert result.error_codes == ["INTERNAL"]


async def test_a_bad_enum_in_variables_is_bad_user_input_without_suggestions(
    client: httpx.AsyncClient,
) -> None:
    result = await gql(
        client,
        await _owner_token(),
        "query Q($g: TrendGranularity!) "
        "{ organization { usage { trend(granularity: $g) { granularity } } } }",
        g="HOURS",
    )
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    message = result.errors[0]["message"]
    assert message == (
        "Variable '$g' has invalid value: Value 'HOURS' does not exist in 'TrendGranularity' enum."
    )
    assert "Did you mean" not in message


async def test_every_error_of_a_mixed_bag_of_bad_requests_has_a_stable_code(
    client: httpx.AsyncClient,
) -> None:
    from graph.extensions.error_codes import STABLE_CODES

    token = await _owner_token()
    queries = [
        "{ viewer { role }",
        "{ viewer { nope } }",
        "query Q($x: Nope) { viewer { role } }",
        "{ organization { requestLogs(first: 500) { pageInfo { hasNextPage } } } }",
        "{ node { id } }",
        "fragment F on Viewer { role } { viewer { role } }",
        "{ viewer { role(arg: 1) } }",
    ]
    for query in queries:
        result = await gql(client, token, query)
        assert result.errors, query
        assert all(code in STABLE_CODES for code in result.error_codes), (query, result.errors)
