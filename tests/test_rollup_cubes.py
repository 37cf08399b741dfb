"""Rollup families (the full rollup, the narrower cubes, the latency histograms): each table
holds exactly the aggregate of the raw logs, and each question reads the smallest family
that has every dimension it filters or groups on."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ingestion.rollups import ROLLUP_ORDER, apply_rollups
from models.database import connection
from models.latency_rollup import LATENCY_BY_MODEL_STATUS, LATENCY_TOTAL
from models.member import Role
from models.rollup import (
    USAGE_BY_KEY,
    USAGE_BY_MEMBER,
    USAGE_BY_MODEL,
    USAGE_BY_MODEL_STATUS,
    USAGE_FULL,
)
from resolvers.latency_histogram import histogram_family
from resolvers.periods import TimeRange
from resolvers.rollup_reader import usage_family
from resolvers.scope import LogFilter, Scope, StatusClass
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store
from tests.ingest_support import stored_records
from tests.rollup_snapshots import expected_snapshot, snapshot

ADMIN = Scope(organization_id=1, member_id=None, viewer_member_id=7, sees_team=True)
MEMBER = Scope(organization_id=1, member_id=7, viewer_member_id=7, sees_team=False)
RANGE = TimeRange(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 8, tzinfo=UTC))
ANYTHING = LogFilter(time_range=RANGE, timezone=ZoneInfo("UTC"))
START = datetime(2024, 5, 1, 22, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scope", "log_filter", "dimensions", "family"),
    [
        (ADMIN, ANYTHING, (), USAGE_BY_MODEL),
        (ADMIN, ANYTHING, (UsageDimension.MODEL,), USAGE_BY_MODEL),
        (ADMIN, LogFilter(RANGE, ZoneInfo("UTC"), models=("gpt-4",)), (), USAGE_BY_MODEL),
        (
            ADMIN,
            LogFilter(RANGE, ZoneInfo("UTC"), status_classes=(StatusClass.SUCCESS,)),
            (UsageDimension.MODEL,),
            USAGE_BY_MODEL_STATUS,
        ),
        (ADMIN, ANYTHING, (UsageDimension.STATUS_CODE,), USAGE_BY_MODEL_STATUS),
        (ADMIN, ANYTHING, (UsageDimension.API_KEY,), USAGE_BY_KEY),
        (ADMIN, ANYTHING, (UsageDimension.MEMBER,), USAGE_BY_MEMBER),
        (MEMBER, ANYTHING, (), USAGE_BY_MEMBER),
        (ADMIN, LogFilter(RANGE, ZoneInfo("UTC"), only_mine=True), (), USAGE_BY_MEMBER),
        (MEMBER, ANYTHING, (UsageDimension.MODEL,), USAGE_FULL),
        (ADMIN, ANYTHING, (UsageDimension.API_KEY, UsageDimension.MODEL), USAGE_FULL),
        (ADMIN, ANYTHING, (UsageDimension.ENDPOINT,), USAGE_FULL),
        (ADMIN, ANYTHING, (UsageDimension.PROVIDER_MODEL,), USAGE_FULL),
        (ADMIN, LogFilter(RANGE, ZoneInfo("UTC"), api_key_ids=(3,)), (), USAGE_BY_KEY),
        (ADMIN, LogFilter(RANGE, ZoneInfo("UTC"), member_ids=(7,)), (), USAGE_BY_MEMBER),
    ],
)
def test_a_question_reads_the_smallest_family_with_every_dimension_it_uses(
    scope: Scope,
    log_filter: LogFilter,
    dimensions: tuple[UsageDimension, ...],
    family: object,
) -> None:
    assert usage_family(scope, log_filter, dimensions) is family


def test_latency_reads_a_histogram_only_for_model_and_status_questions() -> None:
    by_model = LogFilter(RANGE, ZoneInfo("UTC"), models=("gpt-4",))
    by_key = LogFilter(RANGE, ZoneInfo("UTC"), api_key_ids=(3,))

    assert histogram_family(ADMIN, ANYTHING, None) is LATENCY_TOTAL
    assert histogram_family(ADMIN, by_model, None) is LATENCY_BY_MODEL_STATUS
    assert histogram_family(ADMIN, ANYTHING, UsageDimension.STATUS_CODE) is LATENCY_BY_MODEL_STATUS
    assert histogram_family(ADMIN, by_key, None) is None
    assert histogram_family(MEMBER, ANYTHING, None) is None
    assert histogram_family(ADMIN, ANYTHING, UsageDimension.ENDPOINT) is None


async def _store_mixed_logs() -> list[int]:
    """Two organizations' logs across quarters, hours and days, every status class, team
    keys with and without a member, latencies from 0 ms to minutes."""
    rng = random.Random(11)
    organizations = []
    for _ in range(2):
        org = await make_org(markup_bps=2500, fixed_fee_nanos=1_000_000)
        members = [await make_member(org, Role.MEMBER) for _ in range(3)]
        keys = [await make_key(org, members[0]), await make_key(org, None)]
        records = [
            make_record(
                org,
                rng.choice(keys),
                rng.choice([None, *members]),
                START + timedelta(seconds=rng.randrange(3 * 24 * 3600)),
                model=rng.choice(["gpt-4", "gpt-4o", "claude-3-opus"]),
                status_code=rng.choice([200, 200, 200, 201, 400, 429, 500, 503]),
                endpoint=rng.choice(["/v1/chat/completions", "/v1/embeddings"]),
                latency_ms=rng.choice([0, 1, 127, 128, 129, 255, 256, rng.randrange(60_000)]),
                priced=rng.random() < 0.9,
            )
            for _ in range(150)
        ]
        await store(*records)
        organizations.append(org.id)
    return organizations


async def test_every_rollup_table_holds_the_aggregate_of_the_raw_logs(db: Settings) -> None:
    organizations = await _store_mixed_logs()

    records = [r for org in organizations for r in await stored_records(org)]
    assert len(records) == 300
    assert await snapshot() == expected_snapshot(records)


async def test_subtracting_and_adding_back_records_leaves_every_table_unchanged(
    db: Settings,
) -> None:
    organizations = await _store_mixed_logs()
    records = await stored_records(organizations[0])
    before = await snapshot()

    await apply_rollups(connection(), records[:40], sign=-1)
    assert await snapshot() != before
    await apply_rollups(connection(), records[:40], sign=1)

    assert await snapshot() == before


def test_rollup_order_lists_every_family_at_each_of_its_grains() -> None:
    tables = [family.table(grain) for family, grain in ROLLUP_ORDER]

    # usage families: the full rollup (day), model cubes x 3 grains, the key and member
    # cubes x 2 (hour, day); latency (2 + 1), the team's tags (hour, day) and end users (day)
    assert len(tables) == len(set(tables)) == 1 + 2 * 3 + 2 * 2 + 2 + 1 + 2 + 1
    assert tables[:2] == ["usage_rollup_day", "usage_cube_model_quarter"]
