"""Inputs the GraphQL fuzzer (tests/test_fuzz_graphql.py) found answered with INTERNAL errors,
now refused with BAD_USER_INPUT and a message naming the problem."""

from __future__ import annotations

import httpx

from models.member import Role
from models.organization import Organization
from tests.factories import GraphQLResult, gql, make_member, make_org, make_token

DEPOSIT = "mutation D($amount: Decimal!) { depositFunds(amount: $amount) { balanceAfter } }"
COMPARISON = (
    "query Q($from: DateTime) { organization { usage(filter: {from: $from}) "
    "{ comparison { requestsGrowthPercent } } } }"
)


async def _owner(org: Organization) -> str:
    return await make_token(await make_member(org, Role.OWNER))


def _only_error(result: GraphQLResult) -> tuple[str, str]:
    assert result.errors is not None and len(result.errors) == 1, result.errors
    return result.errors[0]["message"], result.errors[0]["extensions"]["code"]


async def test_a_number_literal_for_a_decimal_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), "mutation { depositFunds(amount: 1.5) { id } }")

    assert _only_error(result) == (
        "Expected value of type 'Decimal', but encountered error 'Decimal values must be "
        'sent as strings, e.g. "12.50"\'; found: 1.5.',
        "BAD_USER_INPUT",
    )


async def test_an_amount_beyond_a_billion_dollars_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), DEPOSIT, amount="1E+30")

    assert _only_error(result) == (
        "amount: 1E+30 is too large; at most 1000000000 USD",
        "BAD_USER_INPUT",
    )


async def test_an_absurd_exponent_is_refused_without_echoing_a_billion_digits(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await _owner(org)
    huge = await gql(client, token, DEPOSIT, amount="1e999999999")
    tiny = await gql(client, token, DEPOSIT, amount="1e-999999999")

    assert _only_error(huge) == (
        "amount: 1E+999999999 is not a usable USD amount",
        "BAD_USER_INPUT",
    )
    assert _only_error(tiny) == (
        "amount: 1E-999999999 has more than 9 decimal places",
        "BAD_USER_INPUT",
    )


async def test_deposits_cannot_take_a_wallet_beyond_a_billion_dollars(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await _owner(org)
    full = await gql(client, token, DEPOSIT, amount="1000000000")
    over = await gql(client, token, DEPOSIT, amount="0.000000001")

    assert full.errors is None
    assert full.data == {"depositFunds": {"balanceAfter": "1000000000.00"}}
    assert _only_error(over) == (
        "amount: a deposit of $0.000000001 would take the wallet balance of "
        "$1000000000.00 above $1000000000.00",
        "BAD_USER_INPUT",
    )
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 10**18


async def test_a_custom_range_from_year_one_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), COMPARISON, **{"from": "0001-01-01T00:00:00Z"})

    assert _only_error(result) == (
        "filter: 'from' (0001-01-01T00:00:00+00:00) must lie between "
        "1970-01-01T00:00:00+00:00 and 2200-01-01T00:00:00+00:00",
        "BAD_USER_INPUT",
    )


async def test_an_instant_whose_offset_leaves_the_calendar_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(
        client, await _owner(org), COMPARISON, **{"from": "0001-01-01T00:00:00+05:00"}
    )

    assert _only_error(result) == (
        "filter: 'from' (0001-01-01T00:00:00+05:00) is out of range",
        "BAD_USER_INPUT",
    )
