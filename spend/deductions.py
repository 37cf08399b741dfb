"""Money side of a write: deduct the wallet and add to the billing-period spend counters.

Both run inside the caller's transaction. Organizations are updated in id order and counters
in key order, so concurrent batches take these row locks in one order and cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models.database import Params, dialect_of
from models.priced_record import PricedRecord
from resolvers.billing_policy import BILLING_POLICY_COLUMNS, BillingPolicy, billing_policy_of_row
from resolvers.periods import TimeRange
from spend.out_of_range import TotalsOutOfRange

# The lowest balance a wallet can reach: a BIGINT's smallest value but one, so its negation
# fits too. Only a debt of $9.2e9 reaches it; a deduction beyond raises TotalsOutOfRange.
MIN_BALANCE_NANOS = -(2**63 - 1)


async def deduct_wallets(
    conn: BaseDBAsyncClient,
    records: Sequence[PricedRecord],
    *,
    note: str | None = None,
) -> None:
    """Deduct the records' customer cost from each organization's wallet, with one USAGE
    ledger entry per organization (amount negative nano-USD, request_count = records).
    Raises TotalsOutOfRange when a balance would fall below MIN_BALANCE_NANOS."""
    per_org: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        totals = per_org[record.organization_id]
        totals[0] += record.customer_cost_nanos
        totals[1] += 1
    for organization_id in sorted(per_org):
        cost, count = per_org[organization_id]
        params = Params(dialect_of(conn))
        # The floor is checked in the statement, so the difference is never computed past
        # it (SQLite would quietly turn it into a float).
        rows = await conn.execute_query_dict(
            f"UPDATE organization SET wallet_balance_nanos = wallet_balance_nanos - "
            f"{params.add(cost)} WHERE id = {params.add(organization_id)} "
            f"AND wallet_balance_nanos >= {params.add(MIN_BALANCE_NANOS + cost)} "
            "RETURNING wallet_balance_nanos",
            params.values,
        )
        if not rows:
            raise TotalsOutOfRange()
        balance = int(rows[0]["wallet_balance_nanos"])
        # Taken under the organization lock the UPDATE holds, like the wallet's own entries:
        # created_at then follows the order balances changed in.
        now = datetime.now(UTC)
        params = Params(dialect_of(conn))
        values = (organization_id, "USAGE", -cost, balance, count, note, None, now)
        await conn.execute_query(
            "INSERT INTO wallet_entry (organization_id, kind, amount_nanos, "
            "balance_after_nanos, request_count, note, created_by_id, created_at) VALUES ("
            + ", ".join(params.add(v) for v in values)
            + ")",
            params.values,
        )


async def add_spend(
    conn: BaseDBAsyncClient,
    records: Sequence[PricedRecord],
    *,
    count_requests: bool = True,
) -> None:
    """Add the records' customer cost (nano-USD) and, with count_requests, one request each
    to the spend counters of their billing period: the organization's (api_key_id 0) and
    the key's. A reprice adds cost only: its requests were counted when they arrived."""
    if not records:
        return
    counters = spend_per_counter(
        records, await billing_settings(conn, {r.organization_id for r in records})
    )
    params = Params(dialect_of(conn))
    rows = [
        "("
        + ", ".join(
            params.add(v)
            for v in (organization_id, key_id, start, spend, count if count_requests else 0)
        )
        + ")"
        for (organization_id, key_id, start), (spend, count) in sorted(counters.items())
    ]
    # One statement for every counter; rows in key order so concurrent batches lock alike.
    await conn.execute_query(
        "INSERT INTO spend_counter (organization_id, api_key_id, period_start, spend_nanos, "
        f"requests) VALUES {', '.join(rows)} "
        "ON CONFLICT (organization_id, api_key_id, period_start) DO UPDATE SET "
        "spend_nanos = spend_counter.spend_nanos + excluded.spend_nanos, "
        "requests = spend_counter.requests + excluded.requests",
        params.values,
    )


def spend_per_counter(
    records: Sequence[PricedRecord], billing: dict[int, BillingPolicy]
) -> dict[tuple[int, int, datetime], list[int]]:
    """[customer cost nano-USD, requests] per (organization, key or 0, period start UTC)."""
    per_key: dict[tuple[int, int, datetime], list[int]] = {}
    # Periods are a month long: remember the ones seen instead of recomputing per record,
    # and try the last one first (a batch's records are mostly in one period).
    known: dict[int, list[TimeRange]] = defaultdict(list)
    last_org, last = 0, None
    for record in records:
        org_id, at = record.organization_id, record.timestamp
        if last is None or org_id != last_org or not last.start <= at < last.end:
            last_org, last = org_id, _period_of(known[org_id], at, billing[org_id])
        counter = per_key.get((org_id, record.api_key_id, last.start))
        if counter is None:
            per_key[(org_id, record.api_key_id, last.start)] = [record.customer_cost_nanos, 1]
        else:
            counter[0] += record.customer_cost_nanos
            counter[1] += 1
    counters: dict[tuple[int, int, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for (org_id, key_id, start), (spend, count) in per_key.items():
        for counter_key in ((org_id, 0, start), (org_id, key_id, start)):
            counters[counter_key][0] += spend
            counters[counter_key][1] += count
    return counters


def _period_of(known: list[TimeRange], at: datetime, billing: BillingPolicy) -> TimeRange:
    """The billing period containing `at`: one of `known`, else computed and added to it."""
    period = next((p for p in known if p.start <= at < p.end), None)
    if period is None:
        period = billing.period(at)
        known.append(period)
    return period


async def billing_settings(
    conn: BaseDBAsyncClient, organization_ids: set[int]
) -> dict[int, BillingPolicy]:
    """The billing policy (tier, timezone, anchor day, contract) per organization id."""
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"SELECT id, {BILLING_POLICY_COLUMNS} FROM organization WHERE id IN ("
        + params.add_list(sorted(organization_ids))
        + ")",
        params.values,
    )
    return {int(row["id"]): billing_policy_of_row(row) for row in rows}
