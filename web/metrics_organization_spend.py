"""Per-organization spend gauges, read from the database when /metrics is scraped.

Only with AIZE_METRICS_ORGANIZATION_SPEND (each organization adds three series: mind the
cardinality) and for at most AIZE_METRICS_ORGANIZATION_LIMIT organizations (lowest ids
first). Values are USD as Prometheus floats (a sample is a float64: exact to the nano-dollar
below $9 million); the exact figures are the API's Decimal strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from models.database import Params, connection, current_dialect, parse_db_datetime
from models.global_ids import encode_global_id
from resolvers.billing_policy import BILLING_POLICY_COLUMNS, billing_policy_of_row
from resolvers.scope import organizations_condition

NANOS_PER_USD = Decimal(1_000_000_000)


@dataclass(frozen=True, slots=True)
class OrganizationSpend:
    """One organization's current billing period, in nano-USD."""

    organization_id: str  # the API's global id
    period_spend_nanos: int
    budget_nanos: int | None
    wallet_balance_nanos: int


async def read_organization_spend(
    limit: int, now: datetime | None = None
) -> list[OrganizationSpend]:
    """The current period's spend, budget and balance of the first `limit` organizations."""
    now = now or datetime.now(UTC)
    conn = connection()
    params = Params(current_dialect())
    rows = await conn.execute_query_dict(
        f"SELECT id, {BILLING_POLICY_COLUMNS}, monthly_budget_nanos, wallet_balance_nanos "
        f"FROM organization ORDER BY id LIMIT {params.add(limit)}",
        params.values,
    )
    if not rows:
        return []
    starts = {int(row["id"]): billing_policy_of_row(row).period(now).start for row in rows}
    params = Params(current_dialect())
    counters = await conn.execute_query_dict(
        "SELECT organization_id, period_start, spend_nanos FROM spend_counter "
        f"WHERE api_key_id = 0 AND {organizations_condition(sorted(starts), params)} "
        f"AND period_start >= {params.add(min(starts.values()))}",
        params.values,
    )
    spend = {
        int(c["organization_id"]): int(c["spend_nanos"])
        for c in counters
        if parse_db_datetime(c["period_start"]) == starts[int(c["organization_id"])]
    }
    return [
        OrganizationSpend(
            organization_id=encode_global_id("Organization", int(row["id"])),
            period_spend_nanos=spend.get(int(row["id"]), 0),
            budget_nanos=None
            if row["monthly_budget_nanos"] is None
            else int(row["monthly_budget_nanos"]),
            wallet_balance_nanos=int(row["wallet_balance_nanos"]),
        )
        for row in rows
    ]


def _usd(nanos: int) -> float:
    return float(Decimal(nanos) / NANOS_PER_USD)


class OrganizationSpendCollector(Collector):
    """The gauges of one scrape, from `read_organization_spend`'s answer."""

    def __init__(self, spends: list[OrganizationSpend]) -> None:
        self.spends = spends

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["organization"]
        spend = GaugeMetricFamily(
            "aize_organization_period_spend_usd",
            "Customer cost of the organization's current billing period, in USD.",
            labels=labels,
        )
        budget = GaugeMetricFamily(
            "aize_organization_budget_usd",
            "The organization's budget per billing period, in USD (absent: no budget).",
            labels=labels,
        )
        balance = GaugeMetricFamily(
            "aize_organization_wallet_balance_usd",
            "The organization's prepaid wallet balance, in USD.",
            labels=labels,
        )
        for org in self.spends:
            spend.add_metric([org.organization_id], _usd(org.period_spend_nanos))
            if org.budget_nanos is not None:
                budget.add_metric([org.organization_id], _usd(org.budget_nanos))
            balance.add_metric([org.organization_id], _usd(org.wallet_balance_nanos))
        yield spend
        yield budget
        yield balance
