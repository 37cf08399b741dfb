"""Migration 0027: the full rollup keeps only DAY, the key and member cubes no QUARTER, the
member x tag cube no HOUR (those pieces of time are read from the raw rows, answers exact),
and on PostgreSQL the usage cubes' unique keys carry no INCLUDEd measures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ingestion.folding import drain
from models.database import Dialect, Params, current_dialect, fetch_all
from models.member import Role
from models.rollup import (
    USAGE_BY_KEY,
    USAGE_BY_MEMBER,
    USAGE_BY_MODEL,
    USAGE_BY_MODEL_STATUS,
    USAGE_BY_TEAM_TAG,
    USAGE_FULL,
)
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import usage_breakdown, usage_trend
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store

DROPPED = (
    "usage_rollup_quarter",
    "usage_rollup_hour",
    "usage_cube_key_quarter",
    "usage_cube_member_quarter",
    "usage_cube_tag_hour",
)
KEPT = (
    "usage_rollup_day",
    "usage_cube_team_tag_hour",
    "usage_cube_model_quarter",
    "usage_cube_model_status_quarter",
    "usage_cube_key_hour",
    "usage_cube_member_day",
)


def test_the_families_keep_the_grains_that_pay() -> None:
    assert USAGE_FULL.grains == ("day",)
    assert USAGE_BY_TEAM_TAG.grains == ("hour", "day")
    assert USAGE_BY_KEY.grains == ("hour", "day")
    assert USAGE_BY_MEMBER.grains == ("hour", "day")
    assert USAGE_BY_MODEL.grains == ("quarter", "hour", "day")
    assert USAGE_BY_MODEL_STATUS.grains == ("quarter", "hour", "day")


async def test_the_dropped_tables_are_gone(db: Settings) -> None:
    params = Params(current_dialect())
    names = params.add_list([*DROPPED, *KEPT])
    if params.dialect is Dialect.SQLITE:
        sql = f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({names})"
    else:
        sql = f"SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND relname IN ({names})"

    rows = await fetch_all(sql, params)

    assert sorted(row["name"] for row in rows) == sorted(KEPT)


@pytest.mark.postgres_only
async def test_usage_cube_keys_include_no_measures(db: Settings) -> None:
    params = Params(Dialect.POSTGRES)
    rows = await fetch_all(
        "SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS definition "
        "FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text LIKE 'usage_cube_%' "
        "ORDER BY 1",
        params,
    )
    by_table = {row["tbl"]: row["definition"] for row in rows}

    # The ten usage cubes (0027) and the three team attribution cubes (0028).
    assert len(by_table) == 13
    assert [t for t in by_table if "INCLUDE" in by_table[t]] == []
    assert by_table["usage_cube_key_day"] == "UNIQUE (organization_id, bucket_start, api_key_id)"
    assert by_table["usage_cube_team_end_user_day"] == (
        "UNIQUE (organization_id, bucket_start, end_user)"
    )


async def test_key_and_member_answers_in_a_quarter_hour_zone_equal_the_records(
    db: Settings,
) -> None:
    org = await make_org(timezone="Asia/Kathmandu")
    owner = await make_member(org, Role.OWNER)
    other = await make_member(org, Role.MEMBER)
    keys = [await make_key(org, owner), await make_key(org, other)]
    base = datetime(2024, 5, 1, 18, 0, tzinfo=UTC)
    # Either side of quarters, hours and the local day's edges (+05:45: 18:15 UTC).
    offsets = [0, 14, 16, 29, 31, 44, 46, 59, 61, 74, 76, 24 * 60 + 14, 24 * 60 + 16, 47 * 60]
    records = [
        make_record(
            org,
            keys[m % 2],
            (owner, other)[m % 2],
            base + timedelta(minutes=m),
            provider_cost_nanos=1_000_003 + m,
        )
        for m in offsets
    ]
    await store(*records)
    await drain()
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=owner.id, sees_team=True)
    tz = ZoneInfo("Asia/Kathmandu")
    start, end = base + timedelta(minutes=15), base + timedelta(minutes=24 * 60 + 15)
    log_filter = LogFilter(time_range=TimeRange(start, end), timezone=tz)
    inside = [r for r in records if start <= r.timestamp < end]

    by_key = await usage_breakdown(scope, log_filter, (UsageDimension.API_KEY,))
    trend = await usage_trend(
        scope, log_filter, Granularity.HOUR, split_by=UsageDimension.MEMBER, limit=5
    )

    assert {g.key: (g.totals.requests, g.totals.customer_cost_nanos) for g in by_key} == {
        (key.id,): (
            len([r for r in inside if r.api_key_id == key.id]),
            sum(r.customer_cost_nanos for r in inside if r.api_key_id == key.id),
        )
        for key in keys
    }
    assert len(inside) == 10
    for series in trend.series:
        (member_id,) = series.group.key
        for bucket in series.buckets:
            picked = [
                r
                for r in inside
                if r.member_id == member_id and bucket.start <= r.timestamp < bucket.end
            ]
            assert (bucket.totals.requests, bucket.totals.customer_cost_nanos) == (
                len(picked),
                sum(r.customer_cost_nanos for r in picked),
            )
    assert sum(b.totals.requests for s in trend.series for b in s.buckets) == 10
