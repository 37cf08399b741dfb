"""The dashboard benchmark's correctness checks, on a small load of its data set: the SQL
rebuild of every rollup table equals what ingest writes, and the service's dashboard and
log page equal the raw-SQL reference (exactly, or within the bound for histogram
percentiles). PostgreSQL only: the rebuild and the reference are PostgreSQL SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
import orjson
import pytest

from bench.answer_checks import (
    dashboard_differences,
    log_page_differences,
    percentile_within_bound,
)
from bench.dashboard_queries import (
    DASHBOARD_QUERY,
    DASHBOARD_QUERY_OBJECTS,
    LOG_PAGE_QUERY,
    Window,
    parse_dashboard,
    parse_log_page,
)
from bench.datagen import DataPlan, plan_directory
from bench.load_data import copy_days, rebuild_rollups, store_directory
from bench.reference_sql import reference_dashboard, reference_log_page
from ingestion.rollup_sql import rebuild_statements
from ingestion.rollups import ROLLUP_ORDER
from models.database import POSTGRES_SERVER_SETTINGS
from models.member import Member, Role
from resolvers import latency
from resolvers.pagination import decode_cursor
from settings import Settings
from tests.factories import make_token
from tests.rollup_snapshots import snapshot
from tests.test_rollup_cubes import _store_mixed_logs

pytestmark = pytest.mark.postgres_only
END = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)


def _pg(settings: Settings) -> str:
    return "postgresql://" + settings.database_url.split("://", 1)[1]


async def test_the_sql_rebuild_of_every_rollup_table_equals_what_ingest_wrote(
    db: Settings,
) -> None:
    await _store_mixed_logs()
    ingested = await snapshot()
    conn = await asyncpg.connect(_pg(db))
    try:
        tables = ", ".join(family.table(grain) for family, grain in ROLLUP_ORDER)
        await conn.execute(f"TRUNCATE {tables}")
        for stage in rebuild_statements():
            for statement in stage:
                await conn.execute(statement)
    finally:
        await conn.close()

    assert sum(len(rows) for rows in ingested.values()) > 1000
    assert await snapshot() == ingested


async def _load(db: Settings) -> tuple[int, Window, str]:
    """5,000 rows of the benchmark's data set; the big organization, its window, a token."""
    plan = DataPlan(rows=5000, seed=2, end=END)
    orgs = plan_directory(plan)
    await store_directory(orgs)
    assert await copy_days(db.database_url, plan, orgs, list(range(plan.days))) == 5000
    await rebuild_rollups(db.database_url)
    owner = await Member.get(organization_id=orgs[0].organization_id, role=Role.OWNER)
    window = Window.last_30_days(END, orgs[0].timezone)
    return orgs[0].organization_id, window, await make_token(owner)


async def _graphql(client: httpx.AsyncClient, token: str, query: str, **variables: object) -> dict:  # type: ignore[type-arg]
    response = await client.post(
        "/graphql",
        content=orjson.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict = body["data"]  # type: ignore[type-arg]
    return data


async def test_the_service_answers_the_dashboard_and_log_page_as_raw_sql_does(
    client: httpx.AsyncClient, db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization_id, window, token = await _load(db)
    data = await _graphql(client, token, DASHBOARD_QUERY, filter=window.usage_filter())
    service = parse_dashboard(data, window.timezone)
    objects = parse_dashboard(
        await _graphql(client, token, DASHBOARD_QUERY_OBJECTS, filter=window.usage_filter()),
        window.timezone,
    )
    first_page, end_cursor = parse_log_page(
        await _graphql(client, token, LOG_PAGE_QUERY, filter=window.log_filter())
    )
    assert end_cursor is not None
    page, _ = parse_log_page(
        await _graphql(client, token, LOG_PAGE_QUERY, filter=window.log_filter(), after=end_cursor)
    )
    monkeypatch.setattr(latency, "EXACT_SCAN_LIMIT", 0)
    approximate = parse_dashboard(
        await _graphql(client, token, DASHBOARD_QUERY, filter=window.usage_filter()),
        window.timezone,
    )
    cursor = decode_cursor(end_cursor)
    conn = await asyncpg.connect(_pg(db), server_settings=dict(POSTGRES_SERVER_SETTINGS))
    try:
        reference = await reference_dashboard(conn, organization_id, window)
        reference_first = await reference_log_page(conn, organization_id, window, (END, 2**62))
        reference_page = await reference_log_page(
            conn, organization_id, window, (cursor.timestamp, cursor.id)
        )
    finally:
        await conn.close()

    assert reference.latency_requests > 500
    assert len(service.top_keys) == 20 and len(first_page) > 0
    assert service.latency_method == "EXACT"
    assert dashboard_differences(service, reference) == []
    assert objects == service  # the trend's columns and its bucket objects agree
    assert log_page_differences(first_page, reference_first) == []
    assert log_page_differences(page, reference_page) == []
    assert approximate.latency_method == "APPROXIMATE"
    assert dashboard_differences(approximate, reference) == []


async def test_the_checks_report_a_wrong_figure_or_a_percentile_beyond_the_bound(
    client: httpx.AsyncClient, db: Settings
) -> None:
    _, window, token = await _load(db)
    data = await _graphql(client, token, DASHBOARD_QUERY, filter=window.usage_filter())
    answer = parse_dashboard(data, window.timezone)
    day, model = next(iter(answer.trend))
    requests, cost = answer.trend[(day, model)]
    wrong_trend = replace(
        answer, trend={**answer.trend, (day, model): (requests, cost + Decimal("0.000000001"))}
    )
    wrong_p99 = replace(
        answer,
        percentiles={**answer.percentiles, 99: answer.percentiles[99] * 2},
        latency_method="APPROXIMATE",
        max_relative_error=Decimal("0.0078125"),
    )

    assert dashboard_differences(answer, answer) == []
    assert dashboard_differences(wrong_trend, answer) == [
        f"trend[{(day, model)}]: service {(requests, cost + Decimal('0.000000001'))!r}, "
        f"raw SQL {(requests, cost)!r}"
    ]
    assert len(dashboard_differences(wrong_p99, answer)) == 1
    assert percentile_within_bound(1007, 1000, Decimal("0.0078125"))
    assert not percentile_within_bound(1001, 1000, Decimal(0))
    assert not percentile_within_bound(1008, 1000, Decimal("0.0078125"))
