"""Migration 0028: tags and end users are rolled up for the team only (models/rollup.py
USAGE_BY_TEAM_TAG, USAGE_BY_TEAM_END_USER). An Admin's end users read the team end-user
cube, a Member's (a Member has no breakdowns: their totals filtered to an end user), and any
question split or filtered by member, the raw rows; both equal a scan of the records,
exactly (counts, nanos)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.member import Role
from models.priced_record import PricedRecord
from models.rollup import USAGE_BY_TEAM_END_USER, USAGE_BY_TEAM_TAG
from resolvers.periods import TimeRange
from resolvers.rollup_reader import usage_family
from resolvers.scope import LogFilter, Scope
from resolvers.usage import usage_breakdown, usage_totals
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store
from tests.query_counter import count_queries

ZONE = ZoneInfo("Asia/Kathmandu")
BASE = datetime(2024, 5, 1, 18, 0, tzinfo=UTC)


def by_end_user(records: list[PricedRecord]) -> dict[tuple[str], tuple[int, int, int]]:
    """(end user,) -> (requests, customer cost nanos, input tokens), end user "" without one."""
    sums: dict[tuple[str], tuple[int, int, int]] = {}
    for r in records:
        requests, cost, tokens = sums.get((r.end_user or "",), (0, 0, 0))
        sums[(r.end_user or "",)] = (
            requests + 1,
            cost + r.customer_cost_nanos,
            tokens + r.input_tokens,
        )
    return sums


async def test_admin_and_member_end_users_equal_a_raw_scan(db: Settings) -> None:
    org = await make_org(timezone="Asia/Kathmandu", markup_bps=2500, fixed_fee_nanos=10_000_000)
    admin = await make_member(org, Role.ADMIN)
    ann, bob = await make_member(org, Role.MEMBER), await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    # Three days, minutes either side of the +05:45 day edges (18:15 UTC); both members
    # call for end user "user-1", so its team rows sum two members' requests.
    offsets = [0, 14, 16, 29, 600, 24 * 60 + 14, 24 * 60 + 16, 36 * 60, 48 * 60 + 14, 48 * 60 + 16]
    records = [
        make_record(
            org,
            key,
            (ann, bob)[i % 2] if i != 5 else None,
            BASE + timedelta(minutes=m),
            provider_cost_nanos=3_000_000_007 * (i + 1),
            input_tokens=1_000 + i,
            end_user=("user-1", None, "user-2", "user-1")[i % 4],
        )
        for i, m in enumerate(offsets)
    ]
    await store(*records)
    start, end = BASE + timedelta(minutes=15), BASE + timedelta(minutes=48 * 60 + 15)
    inside = [r for r in records if start <= r.timestamp < end]
    log_filter = LogFilter(time_range=TimeRange(start, end), timezone=ZONE)
    admin_scope = Scope(
        organization_id=org.id, member_id=None, viewer_member_id=admin.id, sees_team=True
    )
    ann_scope = Scope(
        organization_id=org.id, member_id=ann.id, viewer_member_id=ann.id, sees_team=False
    )
    dimensions = (UsageDimension.END_USER,)

    one_user = [
        LogFilter(time_range=log_filter.time_range, timezone=ZONE, end_users=(user,))
        for user in ("user-1", "user-2", "User-1")
    ]

    with count_queries() as admin_reads:
        team = await usage_breakdown(admin_scope, log_filter, dimensions)
    with count_queries() as ann_reads:
        own = [await usage_totals(ann_scope, f) for f in one_user]

    assert usage_family(admin_scope, log_filter, dimensions) is USAGE_BY_TEAM_END_USER
    assert usage_family(admin_scope, one_user[0]) is USAGE_BY_TEAM_END_USER
    assert [usage_family(ann_scope, f) for f in one_user] == [None, None, None]
    assert any(USAGE_BY_TEAM_END_USER.table("day") in s for s in admin_reads.statements)
    assert not any("usage_cube" in s for s in ann_reads.statements)
    assert len(inside) == 7
    got = {
        g.key: (g.totals.requests, g.totals.customer_cost_nanos, g.totals.input_tokens)
        for g in team
    }
    assert got == by_end_user(inside)
    assert got[("user-1",)][0] == 4  # two of Ann's, two of Bob's
    anns = by_end_user([r for r in inside if r.member_id == ann.id])
    assert [(m.requests, m.customer_cost_nanos, m.input_tokens) for m in own] == [
        anns.get(user, (0, 0, 0)) for user in (("user-1",), ("user-2",), ("User-1",))
    ]
    assert [m.requests for m in own] == [2, 2, 0]


async def test_end_user_or_tag_questions_by_member_read_the_raw_rows(db: Settings) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)
    ann, bob = await make_member(org, Role.MEMBER), await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    records = [
        make_record(org, key, ann, at, tags=("a",), end_user="u1", provider_cost_nanos=1_001),
        make_record(org, key, bob, at, tags=("a", "b"), end_user="u1", provider_cost_nanos=20),
        make_record(org, key, bob, at + timedelta(days=1), end_user="u2", provider_cost_nanos=3),
    ]
    await store(*records)
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=admin.id, sees_team=True)
    days = LogFilter(time_range=TimeRange(at, at + timedelta(days=2)), timezone=UTC)
    bob_only = LogFilter(
        time_range=days.time_range, timezone=UTC, member_ids=(bob.id,), end_users=("u1",)
    )
    by_member_tag = (UsageDimension.MEMBER, UsageDimension.TAG)

    split = await usage_breakdown(scope, days, by_member_tag)
    bob_u1 = await usage_totals(scope, bob_only)

    assert usage_family(scope, days, (UsageDimension.TAG,)) is USAGE_BY_TEAM_TAG
    assert usage_family(scope, days, by_member_tag) is None
    assert usage_family(scope, bob_only) is None
    assert {g.key: (g.totals.requests, g.totals.customer_cost_nanos) for g in split} == {
        (ann.id, "a"): (1, records[0].customer_cost_nanos),
        (bob.id, "a"): (1, records[1].customer_cost_nanos),
        (bob.id, "b"): (1, records[1].customer_cost_nanos),
        (bob.id, ""): (1, records[2].customer_cost_nanos),
    }
    assert (bob_u1.requests, bob_u1.customer_cost_nanos) == (1, records[1].customer_cost_nanos)
