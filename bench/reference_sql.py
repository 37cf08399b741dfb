"""The benchmark's reference: the same answers computed by plain SQL over the raw
request_log, on one asyncpg connection with the service's session settings.

Exact by construction (PostgreSQL's own sums, counts and `percentile_disc`), so the
service's answers are checked against it, and timed against it in the same run.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg

from bench.dashboard_queries import (
    LOG_PAGE_MODEL,
    DashboardAnswer,
    LogRow,
    Window,
)
from pricing.money import format_usd
from resolvers.usage_measures import ratio

_RANGE = "organization_id = $1 AND timestamp >= $2 AND timestamp < $3"
TOTALS_SQL = (
    "SELECT count(*) AS requests, "
    "count(*) FILTER (WHERE status_code BETWEEN 200 AND 299) AS successful, "
    "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
    "sum(provider_cost_nanos) AS provider, sum(markup_nanos) AS markup, "
    "sum(fixed_fee_nanos) AS fees, sum(customer_cost_nanos) AS cost, "
    f"sum(latency_ms) AS latency FROM request_log WHERE {_RANGE}"
)
TREND_SQL = (
    "SELECT (timestamp AT TIME ZONE $4)::date AS day, model, count(*) AS requests, "
    f"sum(customer_cost_nanos) AS cost FROM request_log WHERE {_RANGE} GROUP BY 1, 2"
)
TOP_KEYS_SQL = (
    "SELECT k.label, s.requests, s.cost FROM (SELECT api_key_id, count(*) AS requests, "
    f"sum(customer_cost_nanos) AS cost FROM request_log WHERE {_RANGE} GROUP BY 1) AS s "
    "JOIN api_key AS k ON k.id = s.api_key_id ORDER BY s.cost DESC, s.api_key_id LIMIT 20"
)
LATENCY_SQL = (
    "SELECT count(*) AS requests, percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
    f"(ORDER BY latency_ms) AS p FROM request_log WHERE {_RANGE}"
)
LOG_PAGE_SQL = (
    "SELECT l.request_id, l.timestamp, l.model, l.status_code, l.latency_ms, "
    "l.customer_cost_nanos, k.label, m.name FROM request_log AS l "
    "JOIN api_key AS k ON k.id = l.api_key_id LEFT JOIN member AS m ON m.id = l.member_id "
    "WHERE l.organization_id = $1 AND l.timestamp >= $2 AND l.timestamp < $3 "
    "AND l.model = $4 AND l.status_code >= 400 AND l.status_code < 600 "
    "AND (l.timestamp, l.id) < ($5, $6) ORDER BY l.timestamp DESC, l.id DESC LIMIT 50"
)


def _usd(nanos: int) -> Decimal:
    return Decimal(format_usd(int(nanos)))


async def reference_dashboard(
    conn: asyncpg.Connection, organization_id: int, window: Window
) -> DashboardAnswer:
    """The dashboard's answers from the raw rows (four statements, one after the other)."""
    args = (organization_id, window.start, window.end)
    totals = await conn.fetchrow(TOTALS_SQL, *args)
    trend_rows = await conn.fetch(TREND_SQL, *args, window.timezone)
    key_rows = await conn.fetch(TOP_KEYS_SQL, *args)
    latency = await conn.fetchrow(LATENCY_SQL, *args)
    assert totals is not None and latency is not None
    requests = int(totals["requests"])
    average = ratio(int(totals["latency"]), requests)
    answer_totals = {
        "requests": Decimal(requests),
        "successful": Decimal(totals["successful"]),
        "failed": Decimal(requests - int(totals["successful"])),
        "inputTokens": Decimal(totals["input_tokens"]),
        "outputTokens": Decimal(totals["output_tokens"]),
        "totalTokens": Decimal(int(totals["input_tokens"]) + int(totals["output_tokens"])),
        "providerCost": _usd(totals["provider"]),
        "markup": _usd(totals["markup"]),
        "fixedFees": _usd(totals["fees"]),
        "customerCost": _usd(totals["cost"]),
    }
    if average is not None:
        answer_totals["averageLatencyMs"] = average
    trend_totals: dict[str, int] = {}
    trend: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for row in trend_rows:
        day = row["day"].isoformat()
        trend[(day, row["model"])] = (int(row["requests"]), _usd(row["cost"]))
        trend_totals[day] = trend_totals.get(day, 0) + int(row["requests"])
    p50, p95, p99 = latency["p"]
    return DashboardAnswer(
        totals=answer_totals,
        trend=trend,
        trend_totals=trend_totals,
        top_keys=[(r["label"], int(r["requests"]), _usd(r["cost"])) for r in key_rows],
        latency_requests=int(latency["requests"]),
        percentiles={50: int(p50), 95: int(p95), 99: int(p99)},
        latency_method="EXACT",
        max_relative_error=Decimal(0),
    )


async def reference_log_page(
    conn: asyncpg.Connection,
    organization_id: int,
    window: Window,
    cursor: tuple[datetime, int],
) -> list[LogRow]:
    """The log page after `cursor` (timestamp, id) from the raw rows, with key and member."""
    rows = await conn.fetch(
        LOG_PAGE_SQL, organization_id, window.start, window.end, LOG_PAGE_MODEL, *cursor
    )
    return [
        LogRow(
            request_id=str(r["request_id"]),
            timestamp=r["timestamp"],
            model=r["model"],
            status_code=int(r["status_code"]),
            latency_ms=int(r["latency_ms"]),
            customer_cost=_usd(r["customer_cost_nanos"]),
            api_key_label=r["label"],
            member_name=r["name"],
        )
        for r in rows
    ]
