"""Tag benchmark: cost by tag and a tag-filtered dashboard, the real service over HTTP beside
plain SQL on the raw table, on the same data, in the same run.

    python -m bench.tag_bench --rows 1000000 --database-url postgres://.../aize_bench_tags

Loads (or reuses) the data set of bench.load_data (whose requests carry tags and end users,
bench/datagen.py), starts the service, and times `--runs` times each, for the big
organization's last 30 days: (1) cost by tag (`breakdown(by: [TAG])`, every tag) and (2) a
dashboard filtered to one tag (`tags: {any: [feature:chat]}`: totals and the daily trend).
The same answers are computed by SQL over request_log (jsonb conditions, one row per tag)
and compared exactly (counts and nano-dollars). Prints medians with min/max.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.dashboard_bench import (
    _checked,
    big_org_timezone,
    graphql_body,
    graphql_data,
    load_average,
    time_runs,
)
from bench.dashboard_queries import Window
from bench.datagen import DataPlan
from bench.http_client import HttpConnection
from bench.load_data import ensure_loaded
from bench.service import owner_token, running_service
from models.database import POSTGRES_SERVER_SETTINGS
from pricing.money import nanos_to_usd

TAG = "feature:chat"
COST_BY_TAG = """
query CostByTag($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    breakdown(by: [TAG], limit: 100) { tag totals { requests customerCost } }
  } }
}
"""
TAG_DASHBOARD = """
query TagDashboard($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    totals { requests totalTokens customerCost }
    trend(granularity: DAY) { columns { start requests customerCost } }
  } }
}
"""
# Reference answers from the raw rows: one row per (request, tag), untagged once as "".
_REF_BY_TAG = """
SELECT t.value AS tag, count(*) AS requests, sum(customer_cost_nanos) AS cost
FROM request_log CROSS JOIN LATERAL
     jsonb_array_elements_text(COALESCE(tags, '[""]'::jsonb)) AS t(value)
WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3
GROUP BY 1
"""
_REF_TAG_DAYS = """
SELECT date_trunc('day', timestamp AT TIME ZONE $4) AS day, count(*) AS requests,
       sum(total_tokens) AS tokens, sum(customer_cost_nanos) AS cost
FROM request_log
WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3 AND tags @> $5::jsonb
GROUP BY 1
"""


def _usd(nanos: int) -> Decimal:
    return Decimal(nanos_to_usd(nanos))


async def reference_by_tag(
    conn: asyncpg.Connection, org: int, window: Window
) -> dict[str, tuple[int, Decimal]]:
    """The 100 costliest tags (ties by tag), as the breakdown orders them."""
    rows = await conn.fetch(_REF_BY_TAG, org, window.start, window.end)
    ordered = sorted(rows, key=lambda r: (-int(r["cost"]), r["tag"]))[:100]
    return {r["tag"]: (int(r["requests"]), _usd(int(r["cost"]))) for r in ordered}


async def reference_dashboard(
    conn: asyncpg.Connection, org: int, window: Window
) -> tuple[dict[datetime, tuple[int, Decimal]], tuple[int, int, Decimal]]:
    rows = await conn.fetch(
        _REF_TAG_DAYS, org, window.start, window.end, window.timezone, f'["{TAG}"]'
    )
    days = {r["day"]: (int(r["requests"]), _usd(int(r["cost"]))) for r in rows}
    totals = (
        sum(int(r["requests"]) for r in rows),
        sum(int(r["tokens"]) for r in rows),
        _usd(sum(int(r["cost"]) for r in rows)),
    )
    return days, totals


def differences(
    by_tag_data: dict[str, Any],
    dashboard_data: dict[str, Any],
    ref_by_tag: dict[str, tuple[int, Decimal]],
    ref_dashboard: Any,
    tz: str,
) -> list[str]:
    ref_days, ref_totals = ref_dashboard
    problems = []
    service_by_tag = {
        g["tag"]: (int(g["totals"]["requests"]), Decimal(g["totals"]["customerCost"]))
        for g in by_tag_data["organization"]["usage"]["breakdown"]
    }
    if service_by_tag != ref_by_tag:
        problems.append(f"cost by tag: service {service_by_tag} != raw {ref_by_tag}")
    usage = dashboard_data["organization"]["usage"]
    totals = usage["totals"]
    got = (int(totals["requests"]), int(totals["totalTokens"]), Decimal(totals["customerCost"]))
    if got != ref_totals:
        problems.append(f"tag dashboard totals: service {got} != raw {ref_totals}")
    columns = usage["trend"]["columns"]
    zone = ZoneInfo(tz)
    service_days = {
        datetime.fromisoformat(start).astimezone(zone).replace(tzinfo=None): (
            int(requests),
            Decimal(cost),
        )
        for start, requests, cost in zip(
            columns["start"], columns["requests"], columns["customerCost"], strict=True
        )
        if int(requests)
    }
    if service_days != ref_days:
        problems.append("tag dashboard trend differs from the raw SQL's")
    return problems


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    loaded = await ensure_loaded(DataPlan(rows=args.rows, seed=args.seed), args.database_url)
    org = loaded.big_organization_id
    tz = await big_org_timezone(loaded.database_url, org)
    window = Window.last_30_days(loaded.data_end, tz)
    token = await owner_token(loaded.database_url, org)
    auth = {"Authorization": f"Bearer {token}"}
    plain = {"filter": window.usage_filter()}
    tagged = {"filter": {**window.usage_filter(), "tags": {"any": [TAG]}}}
    async with running_service(loaded.database_url) as base_url:
        http = HttpConnection(base_url)
        by_tag_request = http.request_bytes("/graphql", graphql_body(COST_BY_TAG, plain), auth)
        dashboard_request = http.request_bytes(
            "/graphql", graphql_body(TAG_DASHBOARD, tagged), auth
        )
        by_tag_timing, by_tag_raw = await time_runs(
            lambda: _checked(http, by_tag_request, "cost by tag"), args.runs, args.warmup
        )
        dashboard_timing, dashboard_raw = await time_runs(
            lambda: _checked(http, dashboard_request, "tag dashboard"), args.runs, args.warmup
        )
        await http.close()
    conn = await asyncpg.connect(
        "postgresql://" + loaded.database_url.split("://", 1)[1],
        server_settings=dict(POSTGRES_SERVER_SETTINGS),
    )
    try:
        ref_by_tag_timing, ref_by_tag = await time_runs(
            lambda: reference_by_tag(conn, org, window), args.runs, 1
        )
        ref_dashboard_timing, ref_dashboard = await time_runs(
            lambda: reference_dashboard(conn, org, window), args.runs, 1
        )
    finally:
        await conn.close()
    assert isinstance(by_tag_raw, bytes) and isinstance(dashboard_raw, bytes)
    assert isinstance(ref_by_tag, dict)
    problems = differences(
        graphql_data(by_tag_raw), graphql_data(dashboard_raw), ref_by_tag, ref_dashboard, tz
    )
    print(f"{loaded.rows:,} request logs; big organization, last 30 days ({tz})")
    print(f"cost by tag, service over HTTP         : {by_tag_timing}")
    print(f"cost by tag, raw SQL reference         : {ref_by_tag_timing}")
    print(f"tag-filtered dashboard, service (HTTP) : {dashboard_timing}")
    print(f"tag-filtered dashboard, raw SQL        : {ref_dashboard_timing}")
    print("answers equal the raw SQL's" if not problems else "DIFFERS:\n  " + "\n  ".join(problems))
    print(f"load average at the end: {load_average()}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.tag_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a scratch database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
