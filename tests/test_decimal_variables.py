"""Every Decimal input of the schema refuses a malformed value sent as a variable with
BAD_USER_INPUT naming the variable, as it refuses the same value written as a literal.

The scalar takes decimal strings ("12.50") and whole JSON numbers; a JSON number with a
fraction (floats lose cents), "NaN", "Infinity" and text that is no number are refused while
the variables are coerced, before anything runs; "1e400" is a number, refused by each
input's own bound (a money amount's 1,000,000,000 USD, a request's 1,000,000 USD cost).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLType,
    build_schema,
)

from graph.schema import schema
from models.global_ids import encode_global_id
from models.member import Role
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token

MALFORMED = [1.5, "NaN", "abc", "Infinity", "-Infinity", "1.2.3", ""]
HUGE = "1e400"


def _record(cost: object, prefix: str) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1,
        "outputTokens": 1,
        "latencyMs": 1,
        "statusCode": 200,
        "apiKeyPrefix": prefix,
        "providerCost": cost,
    }


RULE = "{ rule { id } }"
# Where each Decimal input is: (document, variables for a value v, token kind).
INPUTS: dict[str, tuple[str, Any, str]] = {
    "Mutation.depositFunds.amount": (
        "mutation M($v: Decimal!) { depositFunds(amount: $v) { amount } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "Mutation.refundFunds.amount": (
        "mutation M($v: Decimal!) { refundFunds(amount: $v) { amount } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "Mutation.setLowBalanceThreshold.amount": (
        "mutation M($v: Decimal!) { setLowBalanceThreshold(amount: $v) { balance } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "Mutation.setMonthlyBudget.amount": (
        "mutation M($v: Decimal) { setMonthlyBudget(amount: $v) { id } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "Mutation.setApiKeyLimit.monthlyLimit": (
        "mutation M($v: Decimal, $k: ID!) { setApiKeyLimit(apiKeyId: $k, monthlyLimit: $v) "
        "{ id } }",
        lambda v, ids: {"v": v, "k": ids["key"]},
        "owner",
    ),
    "Mutation.setLimitApprovalThreshold.amount": (
        "mutation M($v: Decimal) { setLimitApprovalThreshold(amount: $v) { id } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "Query.keyAccess.estimatedCost": (
        'query Q($v: Decimal, $p: String) { keyAccess(model: "gpt-4", apiKeyPrefix: $p, '
        "estimatedCost: $v) { allowed } }",
        lambda v, ids: {"v": v, "p": ids["prefix"]},
        "ingest",
    ),
    "UsageFilter.minCustomerCost": (
        "query Q($v: Decimal) { organization { usage(filter: {minCustomerCost: $v}) "
        "{ totals { requests } } } }",
        lambda v, ids: {"v": v},
        "owner",
    ),
    "RequestLogInput.providerCost": (
        "mutation M($r: [RequestLogInput!]!) { ingestRequestLogs(records: $r) "
        "{ accepted rejected { field reason } } }",
        lambda v, ids: {"r": [_record(v, ids["prefix"])]},
        "ingest",
    ),
    **{
        f"CreateAlertRuleInput.{field}": (
            f"mutation M($i: CreateAlertRuleInput!) {{ createAlertRule(input: $i) {RULE} }}",
            lambda v, ids, field=field, kind=kind: {
                "i": {"kind": kind, field: v, "email": "ops@example.com"}
            },
            "owner",
        )
        for field, kind in [
            ("spendThreshold", "DAILY_SPEND"),
            ("activityFactor", "UNUSUAL_ACTIVITY"),
            ("errorRatePercent", "ERROR_RATE"),
        ]
    },
    **{
        f"UpdateOrganizationSettingsInput.{field}": (
            "mutation M($i: UpdateOrganizationSettingsInput!) "
            "{ updateOrganizationSettings(input: $i) { id } }",
            lambda v, ids, field=field: {"i": {field: v}},
            "owner",
        )
        for field in ["markupPercent", "fixedFee", "lowBalanceThreshold"]
    },
    **{
        f"UpdateAlertRuleInput.{field}": (
            "mutation M($id: ID!, $i: UpdateAlertRuleInput!) "
            f"{{ updateAlertRule(id: $id, input: $i) {RULE} }}",
            lambda v, ids, field=field: {"id": ids["rule"], "i": {field: v}},
            "owner",
        )
        for field in ["spendThreshold", "activityFactor", "errorRatePercent"]
    },
}


def _decimal_inputs() -> set[str]:
    """Every argument and input field of the schema typed Decimal (in any wrapping)."""
    sdl = build_schema(schema.as_str())

    def is_decimal(type_: GraphQLType) -> bool:
        while isinstance(type_, GraphQLNonNull | GraphQLList):
            type_ = type_.of_type
        return getattr(type_, "name", None) == "Decimal"

    found = set()
    for name, named in sdl.type_map.items():
        if isinstance(named, GraphQLObjectType):
            for field_name, field in named.fields.items():
                for arg_name, arg in field.args.items():
                    if is_decimal(arg.type):
                        found.add(f"{name}.{field_name}.{arg_name}")
        elif isinstance(named, GraphQLInputObjectType):
            found.update(
                f"{name}.{f}" for f, field in named.fields.items() if is_decimal(field.type)
            )
    return found


def test_every_decimal_input_of_the_schema_is_tested() -> None:
    assert _decimal_inputs() == set(INPUTS)


@pytest.fixture
async def callers(db: object) -> dict[str, str]:
    """Tokens (an Owner's, an ingest token) and the ids the documents need."""
    org = await make_org(wallet_balance_nanos=100 * 10**9)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    owner_token = await make_token(owner)
    ids = {"owner": owner_token, "ingest": await make_ingest_token(org), "prefix": key.prefix}
    ids["key"] = encode_global_id("ApiKey", key.id)
    return ids


async def _ask(client: httpx.AsyncClient, ids: dict[str, str], where: str, value: object) -> Any:
    document, variables, token = INPUTS[where]
    return await gql(client, ids[token], document, **variables(value, ids))


async def _with_rule(client: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, str]:
    result = await gql(
        client,
        ids["owner"],
        'mutation { createAlertRule(input: {kind: DAILY_SPEND, spendThreshold: "5", '
        'email: "ops@example.com"}) { rule { id } } }',
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return {**ids, "rule": result.data["createAlertRule"]["rule"]["id"]}


@pytest.mark.parametrize("value", MALFORMED, ids=repr)
@pytest.mark.parametrize("where", list(INPUTS))
async def test_a_malformed_decimal_variable_is_bad_user_input(
    client: httpx.AsyncClient, callers: dict[str, str], where: str, value: object
) -> None:
    ids = await _with_rule(client, callers)

    result = await _ask(client, ids, where, value)

    assert result.status == 200
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    message = result.errors[0]["message"]
    assert message.startswith("Variable '$")
    assert "Decimal" in message


@pytest.mark.parametrize("where", [w for w in INPUTS if w != "RequestLogInput.providerCost"])
async def test_a_huge_decimal_variable_is_bad_user_input(
    client: httpx.AsyncClient, callers: dict[str, str], where: str
) -> None:
    ids = await _with_rule(client, callers)

    result = await _ask(client, ids, where, HUGE)

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_a_huge_provider_cost_rejects_its_record_with_a_reason(
    client: httpx.AsyncClient, callers: dict[str, str]
) -> None:
    result = await _ask(client, callers, "RequestLogInput.providerCost", HUGE)

    assert result.errors is None
    assert result.data is not None
    outcome = result.data["ingestRequestLogs"]
    # The reason's wording belongs to ingest validation; the record is refused, by name.
    assert outcome["accepted"] == 0
    assert [r["field"] for r in outcome["rejected"]] == ["providerCost"]
