"""Migration 0020: the attribution rollups keep fewer grains; the missing pieces of time are
read from the raw rows, with their signs, and the answers stay exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.database import Params, current_dialect, fetch_all
from models.member import Role
from models.rollup import USAGE_BY_TEAM_END_USER, USAGE_BY_TEAM_TAG
from resolvers.periods import TimeRange
from resolvers.rollup_reader import family_slices, usage_family
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Grain, TimeSlice, decompose
from resolvers.usage import usage_breakdown, usage_totals
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store

DROPPED = (
    "usage_cube_tag_quarter",
    "usage_cube_team_tag_quarter",
    "usage_cube_end_user_quarter",
    "usage_cube_end_user_hour",
    # and migration 0027 (tests/test_rollup_bytes.py)
    "usage_cube_tag_hour",
    # and migration 0028 (tests/test_team_attribution.py): no member dimension
    "usage_cube_tag_day",
    "usage_cube_end_user_day",
)
KEPT = (
    "usage_cube_team_tag_hour",
    "usage_cube_team_tag_day",
    "usage_cube_team_end_user_day",
)


def test_the_attribution_families_keep_the_grains_that_pay() -> None:
    assert USAGE_BY_TEAM_TAG.grains == ("hour", "day")
    assert USAGE_BY_TEAM_END_USER.grains == ("day",)


def test_pieces_of_a_missing_grain_become_raw_pieces_with_their_sign() -> None:
    # A Kolkata (+05:30) day, from and to with seconds: every grain and both signs.
    start = datetime(2024, 5, 1, 18, 30, 7, tzinfo=UTC)
    slices = decompose(TimeRange(start, start + timedelta(days=2)), signed=True)
    assert {s.grain for s in slices} == {Grain.DAY, Grain.HOUR, Grain.QUARTER, Grain.RAW}

    for_end_users = family_slices(USAGE_BY_TEAM_END_USER, slices)

    assert [(s.start, s.end, s.sign) for s in for_end_users] == [
        (s.start, s.end, s.sign) for s in slices
    ]
    assert [s.grain for s in for_end_users] == [
        s.grain if s.grain in (Grain.DAY, Grain.RAW) else Grain.RAW for s in slices
    ]
    assert any(s.sign == -1 and s.grain is Grain.RAW for s in for_end_users) == any(
        s.sign == -1 and s.grain is not Grain.DAY for s in slices
    )
    assert family_slices(USAGE_BY_TEAM_TAG, [TimeSlice(Grain.QUARTER, start, start)]) == [
        TimeSlice(Grain.RAW, start, start)
    ]


async def test_the_dropped_tables_are_gone_and_the_kept_ones_remain(db: Settings) -> None:
    params = Params(current_dialect())
    names = params.add_list([*DROPPED, *KEPT])
    if params.dialect.value == "sqlite":
        sql = f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({names})"
    else:
        sql = f"SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND relname IN ({names})"

    rows = await fetch_all(sql, params)

    assert sorted(row["name"] for row in rows) == sorted(KEPT)


async def test_end_user_and_tag_answers_in_a_half_hour_zone_equal_the_records(
    db: Settings,
) -> None:
    org = await make_org(timezone="Asia/Kolkata")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, None)
    base = datetime(2024, 5, 1, 18, 20, tzinfo=UTC)
    # Either side of every edge of the range: quarters, hours and a day apart.
    offsets = [0, 9, 11, 44, 46, 61, 125, 24 * 60 + 9, 24 * 60 + 31, 47 * 60 + 59]
    records = [
        make_record(
            org,
            key,
            None,
            base + timedelta(minutes=m),
            provider_cost_nanos=1_000_003 + m,
            tags=("a", "b") if m % 2 else ("a",),
            end_user=f"u{m % 3}",
        )
        for m in offsets
    ]
    await store(*records)
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=owner.id, sees_team=True)
    start, end = base + timedelta(minutes=10), base + timedelta(minutes=47 * 60 + 45)
    tz = ZoneInfo("Asia/Kolkata")
    inside = [r for r in records if start <= r.timestamp < end]

    by_user = await usage_breakdown(
        scope, LogFilter(time_range=TimeRange(start, end), timezone=tz), (UsageDimension.END_USER,)
    )
    tagged_b = await usage_totals(
        scope, LogFilter(time_range=TimeRange(start, end), timezone=tz, tags_all=("b",))
    )

    assert (
        usage_family(
            scope,
            LogFilter(time_range=TimeRange(start, end), timezone=tz),
            (UsageDimension.END_USER,),
        )
        is USAGE_BY_TEAM_END_USER
    )
    assert {g.key: (g.totals.requests, g.totals.customer_cost_nanos) for g in by_user} == {
        (user,): (
            len([r for r in inside if r.end_user == user]),
            sum(r.customer_cost_nanos for r in inside if r.end_user == user),
        )
        for user in {r.end_user for r in inside}
    }
    with_b = [r for r in inside if "b" in r.tags]
    assert (tagged_b.requests, tagged_b.customer_cost_nanos) == (
        len(with_b),
        sum(r.customer_cost_nanos for r in with_b),
    )
    assert len(inside) == 7
