"""request_log's monthly partitions on PostgreSQL: created by the migrations, kept ahead by
maintenance, every row in its own month's partition, the default partition left empty."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maintenance.runner import run_maintenance
from models.database import Dialect, Params, connection, fetch_all
from models.request_log_partitions import (
    DEFAULT_PARTITION,
    MonthPartition,
    add_months,
    is_partitioned,
    month_partitions,
    month_start,
)
from settings import Settings
from tests.factories import make_key, make_org, make_record, store

pytestmark = pytest.mark.postgres_only


async def _partition_of_each_log() -> dict[str, str]:
    """request id -> the partition its row is stored in."""
    rows = await fetch_all(
        "SELECT request_id, tableoid::regclass::text AS partition FROM request_log",
        Params(Dialect.POSTGRES),
    )
    return {str(row["request_id"]): str(row["partition"]) for row in rows}


async def _partition_names() -> set[str]:
    return {p.name for p in await month_partitions(connection())}


async def _store_at(*instants: datetime) -> list[Any]:
    org = await make_org()
    key = await make_key(org)
    records = [make_record(org, key, None, at) for at in instants]
    await store(*records)
    return records


async def test_migrations_leave_request_log_partitioned_by_month_up_to_two_months_ahead(
    db: Settings,
) -> None:
    current = month_start(datetime.now(UTC))

    assert await is_partitioned(connection())
    names = await _partition_names()
    assert {MonthPartition.of(add_months(current, n)).name for n in (-1, 0, 1, 2)} <= names
    default = await fetch_all(
        "SELECT count(*) AS n FROM pg_inherits WHERE inhrelid = 'request_log_default'::regclass",
        Params(Dialect.POSTGRES),
    )
    assert default[0]["n"] == 1


async def test_logs_of_several_months_land_in_their_months_partitions(db: Settings) -> None:
    now = datetime(2032, 3, 20, tzinfo=UTC)
    await run_maintenance(db, now=now)
    february, march, april = (
        datetime(2032, 2, 29, 23, 59, 59, tzinfo=UTC),
        datetime(2032, 3, 1, tzinfo=UTC),
        datetime(2032, 4, 30, 23, 0, tzinfo=UTC),
    )

    records = await _store_at(february, march, april)

    placed = await _partition_of_each_log()
    assert [placed[str(r.request_id)] for r in records] == [
        "request_log_p2032_02",
        "request_log_p2032_03",
        "request_log_p2032_04",
    ]


async def test_a_month_boundary_belongs_to_the_month_it_starts(db: Settings) -> None:
    await run_maintenance(db, now=datetime(2032, 7, 15, tzinfo=UTC))
    # 2032-08-01 02:00 in Berlin is still July in UTC: months are UTC months.
    berlin_offset = timedelta(hours=2)

    records = await _store_at(datetime(2032, 8, 1, tzinfo=UTC) - berlin_offset)

    assert (await _partition_of_each_log())[str(records[0].request_id)] == "request_log_p2032_07"


async def test_maintenance_creates_the_late_arrival_window_and_two_months_ahead_once(
    db: Settings,
) -> None:
    now = datetime(2033, 5, 10, tzinfo=UTC)

    first = await run_maintenance(db, now=now)
    second = await run_maintenance(db, now=now)

    # 35 days back from May 10 is April 5: April to July must exist.
    expected = {f"request_log_p2033_{month:02d}" for month in (4, 5, 6, 7)}
    assert expected <= set(first.created_partitions)
    assert expected <= await _partition_names()
    assert second.created_partitions == []
    assert second.moved_rows == 0


async def test_rows_in_the_default_partition_move_into_their_month_when_it_is_created(
    db: Settings,
) -> None:
    records = await _store_at(
        datetime(2019, 3, 4, 5, 6, tzinfo=UTC), datetime(2019, 3, 31, 23, 59, tzinfo=UTC)
    )
    assert set((await _partition_of_each_log()).values()) == {DEFAULT_PARTITION}

    report = await run_maintenance(db)

    assert "request_log_p2019_03" in report.created_partitions
    assert report.moved_rows == 2
    placed = await _partition_of_each_log()
    assert [placed[str(r.request_id)] for r in records] == ["request_log_p2019_03"] * 2
    left = await fetch_all(
        f"SELECT count(*) AS n FROM {DEFAULT_PARTITION}", Params(Dialect.POSTGRES)
    )
    assert left[0]["n"] == 0


async def test_a_new_partition_gets_every_index_named_after_the_parents(db: Settings) -> None:
    await run_maintenance(db, now=datetime(2034, 1, 10, tzinfo=UTC))

    rows = await fetch_all(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'request_log_p2034_02' "
        "ORDER BY indexname",
        Params(Dialect.POSTGRES),
    )

    assert [row["indexname"] for row in rows] == [
        "request_log_failed_ts_p2034_02",
        "request_log_org_cost_p2034_02",
        "request_log_org_key_ts_p2034_02",
        "request_log_org_latency_p2034_02",
        "request_log_org_mem_ts_p2034_02",
        "request_log_org_tokens_p2034_02",
        "request_log_org_ts_p2034_02",
        "request_log_pkey_p2034_02",
        "request_log_request_id_p2034_02",
        "request_log_search_trgm_p2034_02",
        "request_log_unpriced_p2034_02",
    ]


async def test_concurrent_maintenance_runs_create_each_month_once(db: Settings) -> None:
    now = datetime(2035, 9, 12, tzinfo=UTC)

    reports = await asyncio.gather(*(run_maintenance(db, now=now) for _ in range(3)))

    created = [name for report in reports for name in report.created_partitions]
    expected = {f"request_log_p2035_{month:02d}" for month in (8, 9, 10, 11)}
    assert sorted(created) == sorted(set(created))
    assert expected <= set(created)
    assert expected <= await _partition_names()
