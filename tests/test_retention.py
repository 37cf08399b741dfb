"""Raw-log retention (AIZE_RAW_RETENTION_MONTHS) and request-id pruning: old raw logs go
(whole months: dropped partitions on PostgreSQL, batched deletes on SQLite), the rollups stay,
so usage totals over whole quarters of those months are unchanged."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from maintenance.policy import request_ids_prunable_before, retention_cutoff
from maintenance.runner import MaintenanceReport, run_maintenance, start_maintenance
from models.database import Params, current_dialect, fetch_all
from models.member import Role
from models.organization import Organization
from models.request_log import RequestLog
from models.request_log_partitions import add_months, month_start
from settings import Settings
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)
from tests.ingest_support import gateway_record, post_bulk
from web.app import create_app

USAGE = """
query Usage($filter: UsageFilter) {
  organization {
    usage(filter: $filter) {
      totals { requests successful failed inputTokens outputTokens customerCost providerCost }
      trend(granularity: MONTH) { buckets { start totals { requests customerCost } } }
    }
    requestLogs(filter: $filter) { edges { node { id } } }
  }
}
"""
NOW = datetime.now(UTC)
THIS_MONTH = month_start(NOW)


def _month(offset: int, day: int = 1, hour: int = 0, minute: int = 0) -> datetime:
    return add_months(THIS_MONTH, offset).replace(day=day, hour=hour, minute=minute)


async def _org_with_logs(*instants: datetime) -> tuple[Organization, str]:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*(make_record(org, key, owner, at) for at in instants))
    return org, await make_token(owner)


async def _usage(client: httpx.AsyncClient, token: str, start: datetime, end: datetime) -> Any:
    window = {"from": start.isoformat(), "to": end.isoformat(), "timezone": "UTC"}
    result = await gql(client, token, USAGE, filter=window)
    assert result.errors is None, result.errors
    return result.data["organization"]  # type: ignore[index]


async def _raw_logs(org: Organization, start: datetime, end: datetime) -> int:
    return await RequestLog.filter(
        organization_id=org.id, timestamp__gte=start, timestamp__lt=end
    ).count()


async def test_retention_drops_old_months_and_usage_totals_over_them_stay_exact(
    client: httpx.AsyncClient, db: Settings
) -> None:
    expired = [_month(-15, 3, 9, 15), _month(-15, 27, 23, 59), _month(-14, 1, 0, 0)]
    kept = [_month(-2, 10, 12, 30), _month(0, 1, 0, 5)]
    org, token = await _org_with_logs(*expired, *kept)
    old_range = (_month(-15), _month(-13))
    before = await _usage(client, token, *old_range)

    report = await run_maintenance(dataclasses.replace(db, raw_retention_months=12))

    after = await _usage(client, token, *old_range)
    assert after["usage"] == before["usage"]
    assert after["usage"]["totals"]["requests"] == 3
    assert after["usage"]["totals"]["customerCost"] == "0.405"
    assert await _raw_logs(org, *old_range) == 0
    assert await _raw_logs(org, _month(-2), _month(1)) == 2
    if db.is_sqlite:
        assert report.deleted_rows == 3
    else:
        month_names = [f"request_log_p{m:%Y_%m}" for m in (_month(-15), _month(-14))]
        assert set(month_names) <= set(report.dropped_partitions)


async def test_after_retention_log_pages_of_dropped_months_are_empty(
    client: httpx.AsyncClient, db: Settings
) -> None:
    _, token = await _org_with_logs(_month(-20, 5), _month(-20, 6))
    old_range = (_month(-20), _month(-19))
    assert len((await _usage(client, token, *old_range))["requestLogs"]["edges"]) == 2

    await run_maintenance(dataclasses.replace(db, raw_retention_months=6))

    after = await _usage(client, token, *old_range)
    assert after["requestLogs"]["edges"] == []
    assert after["usage"]["totals"]["requests"] == 2


async def test_without_a_retention_setting_every_month_is_kept(db: Settings) -> None:
    org, _ = await _org_with_logs(_month(-40, 2), _month(-1, 2))

    report = await run_maintenance(db)

    assert db.raw_retention_months == 0
    assert report.dropped_partitions == [] and report.deleted_rows == 0
    assert await _raw_logs(org, _month(-41), _month(1)) == 2


def test_retention_keeps_this_month_and_the_given_number_of_whole_months_before() -> None:
    now = datetime(2026, 12, 20, tzinfo=UTC)

    assert retention_cutoff(now, 0, 35) is None
    assert retention_cutoff(now, 12, 35) == datetime(2025, 12, 1, tzinfo=UTC)
    assert retention_cutoff(now, 1, 35) == datetime(2026, 11, 1, tzinfo=UTC)


def test_retention_never_drops_a_month_the_late_arrival_window_still_reaches() -> None:
    # On December 3 a 35-day window accepts records from October 29: October stays.
    assert retention_cutoff(datetime(2026, 12, 3, tzinfo=UTC), 1, 35) == datetime(
        2026, 10, 1, tzinfo=UTC
    )
    # From November 5 on, the window no longer reaches October.
    assert retention_cutoff(datetime(2026, 12, 6, tzinfo=UTC), 1, 35) == datetime(
        2026, 11, 1, tzinfo=UTC
    )


async def test_request_ids_older_than_the_late_arrival_window_are_forgotten(
    db: Settings,
) -> None:
    org = await make_org()
    key = await make_key(org)
    limit = request_ids_prunable_before(NOW, db.late_arrival_days)
    old = make_record(org, key, None, limit - timedelta(seconds=1))
    recent = make_record(org, key, None, limit + timedelta(minutes=1))
    await store(old, recent)

    report = await run_maintenance(db, now=NOW)

    assert report.pruned_request_ids == 1
    seen = await fetch_all("SELECT request_id FROM request_id_seen", Params(current_dialect()))
    assert [str(row["request_id"]) for row in seen] == [str(recent.request_id)]
    assert await RequestLog.filter(organization_id=org.id).count() == 2


async def test_pruning_forgets_an_id_only_in_the_organization_whose_entry_is_old(
    db: Settings,
) -> None:
    old_org, recent_org = await make_org(), await make_org()
    old_key, recent_key = await make_key(old_org), await make_key(recent_org)
    limit = request_ids_prunable_before(NOW, db.late_arrival_days)
    shared = uuid.uuid4()
    await store(
        make_record(old_org, old_key, None, limit - timedelta(seconds=1), request_id=shared),
        make_record(recent_org, recent_key, None, limit + timedelta(minutes=1), request_id=shared),
    )

    report = await run_maintenance(db, now=NOW)

    assert report.pruned_request_ids == 1
    seen = await fetch_all(
        "SELECT organization_id, request_id FROM request_id_seen", Params(current_dialect())
    )
    assert [(row["organization_id"], str(row["request_id"])) for row in seen] == [
        (recent_org.id, str(shared))
    ]


async def test_a_resend_of_a_forgotten_id_is_refused_as_too_old_not_counted_again(
    client: httpx.AsyncClient, db: Settings
) -> None:
    org = await make_org()
    key = await make_key(org)
    stamp = NOW - timedelta(days=db.late_arrival_days + 8)
    record = gateway_record(key, timestamp=stamp.isoformat())
    await store(make_record(org, key, None, stamp, request_id=uuid.UUID(record["requestId"])))
    await run_maintenance(db)

    answer = (await post_bulk(client, await make_ingest_token(org), [record])).json()

    assert answer["accepted"] == 0
    assert answer["rejected"][0]["field"] == "timestamp"
    assert await RequestLog.filter(organization_id=org.id).count() == 1


async def test_an_id_still_inside_the_window_stays_a_duplicate_after_maintenance(
    client: httpx.AsyncClient, db: Settings
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(key, timestamp=(NOW - timedelta(days=30)).isoformat())
    assert (await post_bulk(client, token, [record])).json()["accepted"] == 1

    await run_maintenance(db)
    answer = (await post_bulk(client, token, [record])).json()

    assert answer == {"accepted": 0, "duplicates": 1, "rejected": []}


async def test_serve_runs_maintenance_at_start_and_again_after_a_failed_run() -> None:
    runs: list[int] = []
    third_run = asyncio.Event()

    async def run(settings: Settings) -> MaintenanceReport:
        runs.append(len(runs) + 1)
        if len(runs) == 3:
            third_run.set()
        if len(runs) == 2:
            raise ConnectionError("database away")
        return MaintenanceReport()

    stop = start_maintenance(Settings(maintenance_interval_seconds=0.001), run)
    await asyncio.wait_for(third_run.wait(), timeout=10)
    await stop()

    assert runs[:3] == [1, 2, 3]


LATENCY = """
query Latency($filter: UsageFilter) {
  organization { usage(filter: $filter) { latency { requests p50Ms p99Ms method } } }
}
"""


async def test_latency_of_a_dropped_month_comes_from_the_histograms(db: Settings) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        *(
            make_record(org, key, owner, _month(-15, 3, 9, minute), latency_ms=100 * minute)
            for minute in range(1, 6)
        )
    )
    token = await make_token(owner)
    retained = dataclasses.replace(db, raw_retention_months=12)
    window = {"from": _month(-15).isoformat(), "to": _month(-14).isoformat(), "timezone": "UTC"}

    async def latency(settings: Settings) -> Any:
        app = create_app(settings, manage_database=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            result = await gql(client, token, LATENCY, filter=window)
        assert result.errors is None, result.errors
        return result.data["organization"]["usage"]["latency"]  # type: ignore[index]

    # Five requests: exact from the raw rows while they are kept.
    assert await latency(db) == {"requests": 5, "p50Ms": 300, "p99Ms": 500, "method": "EXACT"}

    await run_maintenance(retained)

    # The raw month is gone; a service that keeps 12 months reads the histograms for it:
    # the middle of each percentile's bucket, within 1/128 of the exact 300 and 500 ms.
    assert await _raw_logs(org, _month(-15), _month(-14)) == 0
    assert await latency(retained) == {
        "requests": 5,
        "p50Ms": 302,
        "p99Ms": 502,
        "method": "APPROXIMATE",
    }
