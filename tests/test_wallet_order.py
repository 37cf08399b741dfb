"""The wallet ledger is listed in the order the balance changed: walking every page, newest
first, each entry's balanceAfter is the next (older) entry's balanceAfter plus its amount,
even when deposits, refunds and ingest batches run at the same time."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx

from models.member import Role
from models.organization import Organization
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk

ENTRIES = """
query Entries($after: String) {
  organization {
    wallet {
      balance
      entries(first: 7, after: $after) {
        totalCount
        edges { node { kind amount balanceAfter requestCount } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
DEPOSIT = "mutation D($amount: Decimal!) { depositFunds(amount: $amount) { balanceAfter } }"
REFUND = "mutation R($amount: Decimal!) { refundFunds(amount: $amount) { balanceAfter } }"


async def _whole_ledger(client: httpx.AsyncClient, token: str) -> tuple[Decimal, list[Any]]:
    """(the balance, every entry newest first), page by page through the cursors."""
    entries: list[Any] = []
    after: str | None = None
    while True:
        result = await gql(client, token, ENTRIES, after=after)
        assert result.errors is None
        wallet = result.data["organization"]["wallet"]
        entries += [edge["node"] for edge in wallet["entries"]["edges"]]
        page = wallet["entries"]["pageInfo"]
        if not page["hasNextPage"]:
            assert wallet["entries"]["totalCount"] == len(entries)
            return Decimal(wallet["balance"]), entries
        after = page["endCursor"]


def _assert_chains(balance: Decimal, entries: list[Any]) -> None:
    """Newest first: the newest entry ends at the balance, each one's balanceAfter is the
    older one's plus its amount, and the oldest starts from an empty wallet."""
    assert Decimal(entries[0]["balanceAfter"]) == balance
    for newer, older in pairwise(entries):
        assert Decimal(newer["balanceAfter"]) == Decimal(older["balanceAfter"]) + Decimal(
            newer["amount"]
        ), (newer, older)
    assert Decimal(entries[-1]["balanceAfter"]) == Decimal(entries[-1]["amount"])


async def test_the_listed_ledger_chains_under_concurrent_deposits_refunds_and_ingest(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    owner_token = await make_token(owner)
    ingest_token = await make_ingest_token(org)
    key = await make_key(org)
    await gql(client, owner_token, DEPOSIT, amount="1000")
    batches = [
        [gateway_record(key, providerCost=f"0.{batch:02d}{n}") for n in range(1, 4)]
        for batch in range(1, 25)
    ]
    ingests = [post_bulk(client, ingest_token, batch) for batch in batches]
    moves = [gql(client, owner_token, DEPOSIT, amount=f"{n}.5") for n in range(1, 25)]
    moves += [gql(client, owner_token, REFUND, amount=f"0.{n:02d}") for n in range(1, 13)]

    ingested = await asyncio.gather(*ingests, *moves)

    assert [r.json()["accepted"] for r in ingested[: len(ingests)]] == [3] * len(ingests)
    assert [r.errors for r in ingested[len(ingests) :]] == [None] * len(moves)
    balance, entries = await _whole_ledger(client, owner_token)
    assert len(entries) == 1 + 24 + 24 + 12
    assert sorted(e["kind"] for e in entries) == sorted(
        ["DEPOSIT"] * 25 + ["USAGE"] * 24 + ["REFUND"] * 12
    )
    _assert_chains(balance, entries)
    stored = await Organization.get(id=org.id)
    deposited = Decimal(1000) + sum(Decimal(f"{n}.5") for n in range(1, 25))
    refunded = sum(Decimal(f"0.{n:02d}") for n in range(1, 13))
    spent = sum(Decimal(f"0.{batch:02d}{n}") for batch in range(1, 25) for n in range(1, 4))
    assert balance == deposited - refunded - spent
    assert stored.wallet_balance_nanos == int(balance * 1_000_000_000)
