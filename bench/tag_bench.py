"""Tag benchmark: cost by tag and a tag-filtered dashboard, the real service over HTTP beside
plain SQL on the raw table, on the same data, in the same run.

    python -m bench.tag_bench --rows 1000000 --database-url postgres://.../aize_bench_tags

Loads (or reuses) the data set of bench.load_data (whose requests carry tags and end users,
bench/datagen.py), starts the service, and times `--runs` times each, for the big
organization's last 30 days: (1) cost by tag (`breakdown(by: [TAG])`, every tag), (2) a
dashboard filtered to one tag (`tags: {any: [feature:chat]}`: totals and the daily trend)
and (3) cost by end user (`breakdown(by: [END_USER])`, the 100 costliest), as its Owner;
then, as the Member with the most requests in those days (a Member's tags and end users
are their own requests' only), (4) the same tag dashboard and (5) the same dashboard
filtered to that Member's busiest end user (`endUsers: [...]`). The same answers are
computed by SQL over request_log (jsonb conditions, one row per tag) and compared exactly
(counts and nano-dollars). Prints medians with min/max.
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
from bench.service import member_token, owner_token, running_service
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
COST_BY_END_USER = """
query CostByEndUser($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    breakdown(by: [END_USER], limit: 100) { endUser totals { requests customerCost } }
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
WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3
  AND ($5::jsonb IS NULL OR tags @> $5::jsonb)
  AND ($6::int IS NULL OR member_id = $6) AND ($7::text IS NULL OR end_user = $7)
GROUP BY 1
"""
_REF_BY_END_USER = """
SELECT COALESCE(end_user, '') AS end_user, count(*) AS requests, sum(customer_cost_nanos) AS cost
FROM request_log
WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3
GROUP BY 1
"""
# The Member with the most requests in the window, and their busiest end user.
_BUSIEST_MEMBER = """
SELECT l.member_id, count(*) AS requests FROM request_log l
JOIN member m ON m.organization_id = l.organization_id AND m.id = l.member_id
WHERE l.organization_id = $1 AND l.timestamp >= $2 AND l.timestamp < $3 AND m.role = 'MEMBER'
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1
"""
_BUSIEST_END_USER = """
SELECT end_user FROM request_log
WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3 AND member_id = $4
  AND end_user IS NOT NULL
GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1
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


async def reference_by_end_user(
    conn: asyncpg.Connection, org: int, window: Window
) -> dict[str, tuple[int, Decimal]]:
    """The 100 costliest end users (ties by end user), as the breakdown orders them."""
    rows = await conn.fetch(_REF_BY_END_USER, org, window.start, window.end)
    ordered = sorted(rows, key=lambda r: (-int(r["cost"]), r["end_user"]))[:100]
    return {r["end_user"]: (int(r["requests"]), _usd(int(r["cost"]))) for r in ordered}


async def reference_dashboard(
    conn: asyncpg.Connection,
    org: int,
    window: Window,
    tag: str | None = TAG,
    member_id: int | None = None,
    end_user: str | None = None,
) -> tuple[dict[datetime, tuple[int, Decimal]], tuple[int, int, Decimal]]:
    """The dashboard's days and totals of the requests with `tag` (any when None), of one
    member (and one end user) when given."""
    rows = await conn.fetch(
        _REF_TAG_DAYS,
        org,
        window.start,
        window.end,
        window.timezone,
        None if tag is None else f'["{tag}"]',
        member_id,
        end_user,
    )
    days = {r["day"]: (int(r["requests"]), _usd(int(r["cost"]))) for r in rows}
    totals = (
        sum(int(r["requests"]) for r in rows),
        sum(int(r["tokens"]) for r in rows),
        _usd(sum(int(r["cost"]) for r in rows)),
    )
    return days, totals


def breakdown_differences(
    data: dict[str, Any], field: str, ref: dict[str, tuple[int, Decimal]], what: str
) -> list[str]:
    """What differs between a breakdown's groups (by `field`: tag, endUser) and the raw SQL's."""
    service = {
        g[field]: (int(g["totals"]["requests"]), Decimal(g["totals"]["customerCost"]))
        for g in data["organization"]["usage"]["breakdown"]
    }
    return [] if service == ref else [f"{what}: service {service} != raw {ref}"]


def dashboard_differences(
    data: dict[str, Any], ref_dashboard: Any, tz: str, what: str
) -> list[str]:
    """What differs between a dashboard's totals and daily trend and the raw SQL's."""
    ref_days, ref_totals = ref_dashboard
    problems = []
    usage = data["organization"]["usage"]
    totals = usage["totals"]
    got = (int(totals["requests"]), int(totals["totalTokens"]), Decimal(totals["customerCost"]))
    if got != ref_totals:
        problems.append(f"{what} totals: service {got} != raw {ref_totals}")
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
        problems.append(f"{what} trend differs from the raw SQL's")
    return problems


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    loaded = await ensure_loaded(DataPlan(rows=args.rows, seed=args.seed), args.database_url)
    org = loaded.big_organization_id
    tz = await big_org_timezone(loaded.database_url, org)
    window = Window.last_30_days(loaded.data_end, tz)
    conn = await asyncpg.connect(
        "postgresql://" + loaded.database_url.split("://", 1)[1],
        server_settings=dict(POSTGRES_SERVER_SETTINGS),
    )
    try:
        member = await conn.fetchrow(_BUSIEST_MEMBER, org, window.start, window.end)
        member_id = int(member["member_id"])
        end_user = await conn.fetchval(_BUSIEST_END_USER, org, window.start, window.end, member_id)
    finally:
        await conn.close()
    owner_auth = {"Authorization": f"Bearer {await owner_token(loaded.database_url, org)}"}
    member_auth = {
        "Authorization": f"Bearer {await member_token(loaded.database_url, org, member_id)}"
    }
    plain = {"filter": window.usage_filter()}
    tagged = {"filter": {**window.usage_filter(), "tags": {"any": [TAG]}}}
    one_end_user = {"filter": {**window.usage_filter(), "endUsers": [end_user]}}
    questions = {
        "cost by tag": (COST_BY_TAG, plain, owner_auth),
        "tag-filtered dashboard": (TAG_DASHBOARD, tagged, owner_auth),
        "cost by end user": (COST_BY_END_USER, plain, owner_auth),
        "Member's tag dashboard": (TAG_DASHBOARD, tagged, member_auth),
        "Member's end-user dashboard": (TAG_DASHBOARD, one_end_user, member_auth),
    }
    timings: dict[str, Any] = {}
    answers: dict[str, dict[str, Any]] = {}
    async with running_service(loaded.database_url) as base_url:
        http = HttpConnection(base_url)
        for what, (query, variables, auth) in questions.items():
            request = http.request_bytes("/graphql", graphql_body(query, variables), auth)
            timing, raw = await time_runs(
                lambda request=request, what=what: _checked(http, request, what),
                args.runs,
                args.warmup,
            )
            assert isinstance(raw, bytes)
            timings[what], answers[what] = timing, graphql_data(raw)
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
        ref_by_end_user = await reference_by_end_user(conn, org, window)
        ref_member_dashboard = await reference_dashboard(conn, org, window, TAG, member_id)
        ref_member_end_user = await reference_dashboard(
            conn, org, window, None, member_id, end_user
        )
    finally:
        await conn.close()
    assert isinstance(ref_by_tag, dict)
    problems = [
        *breakdown_differences(answers["cost by tag"], "tag", ref_by_tag, "cost by tag"),
        *dashboard_differences(
            answers["tag-filtered dashboard"], ref_dashboard, tz, "tag dashboard"
        ),
        *breakdown_differences(
            answers["cost by end user"], "endUser", ref_by_end_user, "cost by end user"
        ),
        *dashboard_differences(
            answers["Member's tag dashboard"], ref_member_dashboard, tz, "Member's tag dashboard"
        ),
        *dashboard_differences(
            answers["Member's end-user dashboard"],
            ref_member_end_user,
            tz,
            "Member's end-user dashboard",
        ),
    ]
    print(f"{loaded.rows:,} request logs; big organization, last 30 days ({tz})")
    print(f"Member {member_id} ({int(member['requests']):,} requests), end user {end_user}")
    for what, timing in timings.items():
        print(f"{what + ', service over HTTP':<45}: {timing}")
    print(f"{'cost by tag, raw SQL reference':<45}: {ref_by_tag_timing}")
    print(f"{'tag-filtered dashboard, raw SQL':<45}: {ref_dashboard_timing}")
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
