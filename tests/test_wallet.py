"""The wallet through GraphQL: who may see it and move money, the ledger, and the rule that
deposits and refunds are never cost."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from ingestion.folding import drain
from ingestion.writer import write_records
from models.access_token import Scope
from models.database import Params, current_dialect, fetch_all
from models.member import Role
from models.organization import Organization
from models.wallet import WalletEntry
from spend.control import after_write
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
)

USD = 1_000_000_000
WALLET = """
query Wallet($first: Int, $after: String) {
  organization {
    wallet {
      balance lowBalanceThreshold isLow
      entries(first: $first, after: $after) {
        totalCount
        edges { node { kind amount balanceAfter requestCount note createdBy { name } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
DEPOSIT = """
mutation Deposit($amount: Decimal!, $note: String) {
  depositFunds(amount: $amount, note: $note) { kind amount balanceAfter note createdBy { name } }
}
"""
REFUND = """
mutation Refund($amount: Decimal!) { refundFunds(amount: $amount) { kind amount balanceAfter } }
"""
SPEND_AND_USAGE = """
{
  organization {
    currentSpend { spend }
    usage(filter: {period: LAST_24_HOURS}) { totals { requests customerCost } }
  }
}
"""
THRESHOLD = """
mutation Threshold($amount: Decimal!) {
  setLowBalanceThreshold(amount: $amount) { balance lowBalanceThreshold isLow }
}
"""


async def tokens_by_role(org: Organization) -> dict[Role, str]:
    return {role: await make_token(await make_member(org, role)) for role in Role}


async def balance_of(org: Organization) -> int:
    return (await Organization.get(id=org.id)).wallet_balance_nanos


async def test_owners_and_admins_see_the_wallet_and_its_ledger_newest_first(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=0)
    owner = await make_member(org, Role.OWNER, name="Olga")
    owner_token = await make_token(owner)
    admin_token = await make_token(await make_member(org, Role.ADMIN))
    key = await make_key(org)
    await gql(client, owner_token, DEPOSIT, amount="50", note="April top-up")
    record = make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD // 10)
    await write_records([record], after_write=after_write)
    await gql(client, owner_token, REFUND, amount="20.5")

    for token in (owner_token, admin_token):
        result = await gql(client, token, WALLET)
        assert result.errors is None
        assert result.data is not None
        wallet = result.data["organization"]["wallet"]
        assert (wallet["balance"], wallet["lowBalanceThreshold"], wallet["isLow"]) == (
            "29.40",
            "10.00",
            False,
        )
        assert wallet["entries"]["totalCount"] == 3
        assert [e["node"] for e in wallet["entries"]["edges"]] == [
            {
                "kind": "REFUND",
                "amount": "-20.50",
                "balanceAfter": "29.40",
                "requestCount": 0,
                "note": None,
                "createdBy": {"name": "Olga"},
            },
            {
                "kind": "USAGE",
                "amount": "-0.10",
                "balanceAfter": "49.90",
                "requestCount": 1,
                "note": None,
                "createdBy": None,
            },
            {
                "kind": "DEPOSIT",
                "amount": "50.00",
                "balanceAfter": "50.00",
                "requestCount": 0,
                "note": "April top-up",
                "createdBy": {"name": "Olga"},
            },
        ]


async def test_members_cannot_see_the_wallet(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=5 * USD)
    token = await make_token(await make_member(org, Role.MEMBER))

    result = await gql(client, token, "{ organization { wallet { balance } } }")

    assert result.error_codes == ["FORBIDDEN"]
    # Nullable team-only field: the refusal nulls the wallet only (tests/test_partial_answers.py).
    assert result.data == {"organization": {"wallet": None}}


async def test_the_ledger_pages_with_keyset_cursors(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    for dollars in range(1, 6):
        await gql(client, token, DEPOSIT, amount=str(dollars))

    amounts: list[str] = []
    after = None
    pages = 0
    while True:
        result = await gql(client, token, WALLET, first=2, after=after)
        assert result.errors is None and result.data is not None
        entries = result.data["organization"]["wallet"]["entries"]
        amounts += [e["node"]["amount"] for e in entries["edges"]]
        pages += 1
        if not entries["pageInfo"]["hasNextPage"]:
            break
        after = entries["pageInfo"]["endCursor"]

    assert pages == 3
    assert amounts == ["5.00", "4.00", "3.00", "2.00", "1.00"]


async def test_only_owners_may_deposit_or_refund(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=10 * USD)
    owner_token = await make_token(await make_member(org, Role.OWNER, name="Olga"))
    tokens_without_owner = {
        "admin": await make_token(await make_member(org, Role.ADMIN)),
        "member": await make_token(await make_member(org, Role.MEMBER)),
        "ingest": await make_ingest_token(org),
        # An Owner whose token lacks the admin scope may read but not move money.
        "read-only owner": await make_token(
            await make_member(org, Role.OWNER), [Scope.READ, Scope.EXPORT]
        ),
    }

    for token in tokens_without_owner.values():
        for mutation in (DEPOSIT, REFUND):
            result = await gql(client, token, mutation, amount="1")
            assert result.error_codes == ["FORBIDDEN"]
    assert await balance_of(org) == 10 * USD
    assert await WalletEntry.filter(organization_id=org.id).count() == 0

    deposited = await gql(client, owner_token, DEPOSIT, amount="2.25")
    refunded = await gql(client, owner_token, REFUND, amount="0.25")
    assert deposited.data == {
        "depositFunds": {
            "kind": "DEPOSIT",
            "amount": "2.25",
            "balanceAfter": "12.25",
            "note": None,
            "createdBy": {"name": "Olga"},
        }
    }
    assert refunded.data == {
        "refundFunds": {"kind": "REFUND", "amount": "-0.25", "balanceAfter": "12.00"}
    }


async def test_a_refund_larger_than_the_balance_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=3 * USD)
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, REFUND, amount="3.000000001")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "amount: a refund of $3.000000001 exceeds the wallet balance of $3.00"
    )
    assert await balance_of(org) == 3 * USD
    assert await WalletEntry.filter(organization_id=org.id).count() == 0


async def test_refunding_the_whole_balance_leaves_exactly_zero(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=3 * USD)
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, REFUND, amount="3")

    assert result.data == {
        "refundFunds": {"kind": "REFUND", "amount": "-3.00", "balanceAfter": "0.00"}
    }
    assert await balance_of(org) == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "amount: must be greater than 0"),
        ("-5", "amount: must be greater than 0"),
        ("1.0000000001", "amount: 1.0000000001 has more than 9 decimal places"),
    ],
)
async def test_deposit_amounts_must_be_positive_with_at_most_nine_decimals(
    client: httpx.AsyncClient, amount: str, message: str
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, DEPOSIT, amount=amount)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message
    assert await balance_of(org) == 0


async def test_deposit_amounts_keep_all_nine_decimals(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, DEPOSIT, amount="0.000000001")

    assert result.data is not None
    assert result.data["depositFunds"]["balanceAfter"] == "0.000000001"
    assert await balance_of(org) == 1


async def test_a_note_longer_than_500_characters_is_refused(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, DEPOSIT, amount="1", note="x" * 501)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "note: at most 500 characters"


async def test_deposits_and_refunds_never_count_as_cost(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    token = await make_token(await make_member(org, Role.OWNER))
    key = await make_key(org)
    records = [
        make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD // 10)
        for _ in range(3)
    ]
    await write_records(records, after_write=after_write)
    before = await _cost_totals(org)
    reported_before = await gql(client, token, SPEND_AND_USAGE)

    await gql(client, token, DEPOSIT, amount="500")
    await gql(client, token, REFUND, amount="250")

    assert before == {"spend_counters": 6 * USD // 10, "rollups": 3 * USD // 10}
    assert await _cost_totals(org) == before
    reported_after = await gql(client, token, SPEND_AND_USAGE)
    assert reported_before.data == {
        "organization": {
            "currentSpend": {"spend": "0.30"},
            "usage": {"totals": {"requests": 3, "customerCost": "0.30"}},
        }
    }
    assert reported_after.data == reported_before.data
    assert await balance_of(org) == 100 * USD - 3 * USD // 10 + 250 * USD


async def _cost_totals(org: Organization) -> dict[str, int]:
    """Customer cost summed over the spend counters (org + key rows) and the day rollups
    (every pending row folded first: ingestion/folding.py)."""
    await drain()
    totals = {}
    for name, sql in (
        ("spend_counters", "SELECT COALESCE(SUM(spend_nanos), 0) AS total FROM spend_counter"),
        (
            "rollups",
            "SELECT COALESCE(SUM(customer_cost_nanos), 0) AS total FROM usage_rollup_day",
        ),
    ):
        params = Params(current_dialect())
        rows = await fetch_all(f"{sql} WHERE organization_id = {params.add(org.id)}", params)
        totals[name] = int(rows[0]["total"])
    return totals


async def test_admins_and_owners_set_the_low_balance_threshold(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=30 * USD)
    tokens = await tokens_by_role(org)

    refused = await gql(client, tokens[Role.MEMBER], THRESHOLD, amount="5")
    by_admin = await gql(client, tokens[Role.ADMIN], THRESHOLD, amount="50")
    negative = await gql(client, tokens[Role.OWNER], THRESHOLD, amount="-1")

    assert refused.error_codes == ["FORBIDDEN"]
    assert by_admin.data == {
        "setLowBalanceThreshold": {
            "balance": "30.00",
            "lowBalanceThreshold": "50.00",
            "isLow": True,
        }
    }
    assert negative.error_codes == ["BAD_USER_INPUT"]
    assert (await Organization.get(id=org.id)).low_balance_threshold_nanos == 50 * USD
