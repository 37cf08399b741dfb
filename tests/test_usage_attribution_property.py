"""Property: usage by tag and by end user, read from the tag and end-user rollups or from the
raw rows, equals a plain scan of the records in every timezone; tag filters (any / all), end
user filters and the tag and end-user rollup tables hold exactly what the records say.

Random logs land around DST changes (Europe/Berlin, America/New_York) and in the +05:30 and
+05:45 zones (Asia/Kolkata, Asia/Kathmandu), ranges have second-precision edges (every grain
and the raw edges are read). The expected values are computed here in plain Python: a
request counts once in each of its tags (untagged: tag ""), once in its end user ("" without
one). The dimension and filter sets make the reader use the team tag family (TAG groups;
one-tag filters), the team end-user family (END_USER groups and filters) and the raw rows
(TAG with MODEL, several tags, a tag breakdown filtered by tag, a Member's tags and end
users).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.member import Role
from models.priced_record import PricedRecord
from models.rollup import USAGE_BY_TEAM_END_USER, USAGE_BY_TEAM_TAG
from resolvers.periods import TimeRange
from resolvers.rollup_reader import usage_family
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import usage_breakdown, usage_totals, usage_trend
from resolvers.usage_dimensions import UsageDimension
from resolvers.usage_measures import UsageMeasures
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store
from tests.rollup_snapshots import expected_attribution_tables, table_rows
from tests.test_usage_rollup_property import (
    ANCHORS,
    SPAN_SECONDS,
    ZONES,
    expected_measures,
    local_bucket,
)

TAGS = ("feature:chat", "feature:search", "customer=acme", "beta")
END_USERS = ("user-1", "User-1", "user-2")
MODELS = ("gpt-4", "claude-3-opus")


@dataclass(frozen=True)
class LogSpec:
    offset_seconds: int
    member: int | None
    model: str
    status_code: int
    tags: tuple[str, ...]
    end_user: str | None
    input_tokens: int
    provider_cost_nanos: int


@dataclass(frozen=True)
class TagQuestion:
    """A filter on tags: any / all of some tags (None: not given)."""

    tags_any: tuple[str, ...] | None
    tags_all: tuple[str, ...] | None


@dataclass(frozen=True)
class Scenario:
    zone: str
    anchor: datetime
    logs: list[LogSpec]
    start_offset: int
    end_offset: int
    granularity: Granularity
    question: TagQuestion
    end_users: tuple[str, ...]


log_specs = st.builds(
    LogSpec,
    offset_seconds=st.integers(0, SPAN_SECONDS - 1),
    member=st.one_of(st.none(), st.integers(0, 1)),
    model=st.sampled_from(MODELS),
    status_code=st.sampled_from((200, 429, 503)),
    tags=st.lists(st.sampled_from(TAGS), max_size=3, unique=True).map(
        lambda tags: tuple(sorted(tags))
    ),
    end_user=st.one_of(st.none(), st.sampled_from(END_USERS)),
    input_tokens=st.integers(0, 3_000_000_000),
    provider_cost_nanos=st.integers(0, 50_000_000_000),
)
tag_lists = st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True).map(tuple)
questions = st.builds(
    TagQuestion,
    tags_any=st.one_of(st.none(), tag_lists),
    tags_all=st.one_of(st.none(), tag_lists),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    start = draw(st.integers(0, SPAN_SECONDS - 1))
    return Scenario(
        zone=draw(st.sampled_from(ZONES)),
        anchor=draw(st.sampled_from(ANCHORS)),
        logs=draw(st.lists(log_specs, min_size=5, max_size=25)),
        start_offset=start,
        end_offset=draw(st.integers(start + 1, SPAN_SECONDS)),
        granularity=draw(st.sampled_from((Granularity.DAY, Granularity.HOUR))),
        question=draw(questions),
        end_users=tuple(draw(st.lists(st.sampled_from(END_USERS), min_size=1, unique=True))),
    )


def by_groups(
    records: Iterable[PricedRecord], groups_of: Callable[[PricedRecord], Iterable[Hashable]]
) -> dict[Any, UsageMeasures]:
    """Sums per group, a record counting once in each of its groups."""
    lists: dict[Any, list[PricedRecord]] = defaultdict(list)
    for record in records:
        for group in groups_of(record):
            lists[group].append(record)
    return {key: expected_measures(items) for key, items in lists.items()}


def tags_of(record: PricedRecord) -> tuple[str, ...]:
    return record.tags or ("",)


def matches(record: PricedRecord, question: TagQuestion) -> bool:
    tags = set(record.tags)
    if question.tags_any is not None and not tags & set(question.tags_any):
        return False
    return question.tags_all is None or set(question.tags_all) <= tags


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_tag_and_end_user_reads_equal_a_scan_of_the_raw_records(
    db: Settings, scenario: Scenario
) -> None:
    tz = ZoneInfo(scenario.zone)
    org = await make_org(timezone=scenario.zone, markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    members = [await make_member(org, Role.MEMBER) for _ in range(2)]
    key = await make_key(org, None)
    base = scenario.anchor - timedelta(days=2)
    records = [
        make_record(
            org,
            key,
            None if spec.member is None else members[spec.member],
            base + timedelta(seconds=spec.offset_seconds),
            model=spec.model,
            status_code=spec.status_code,
            input_tokens=spec.input_tokens,
            provider_cost_nanos=spec.provider_cost_nanos,
            tags=spec.tags,
            end_user=spec.end_user,
        )
        for spec in scenario.logs
    ]
    await store(*records)
    time_range = TimeRange(
        base + timedelta(seconds=scenario.start_offset),
        base + timedelta(seconds=scenario.end_offset),
    )
    in_range = [r for r in records if time_range.contains(r.timestamp)]
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=owner.id, sees_team=True)
    plain = LogFilter(time_range=time_range, timezone=tz)
    question = scenario.question
    tagged = LogFilter(
        time_range=time_range,
        timezone=tz,
        tags_any=question.tags_any,
        tags_all=question.tags_all,
    )
    chosen = [r for r in in_range if matches(r, question)]

    # TAG groups (tag rollup): a request counts in each of its tags.
    groups = await usage_breakdown(scope, plain, (UsageDimension.TAG,), limit=100)
    assert usage_family(scope, plain, (UsageDimension.TAG,)) is USAGE_BY_TEAM_TAG
    assert {g.key: g.totals for g in groups} == by_groups(
        in_range, lambda r: [(t,) for t in tags_of(r)]
    )
    # END_USER groups (team end-user rollup); ids are case-sensitive.
    groups = await usage_breakdown(scope, plain, (UsageDimension.END_USER,), limit=100)
    assert usage_family(scope, plain, (UsageDimension.END_USER,)) is USAGE_BY_TEAM_END_USER
    assert {g.key: g.totals for g in groups} == by_groups(in_range, lambda r: [(r.end_user or "",)])
    # TAG with MODEL (raw rows), and TAG filtered by tags (raw rows).
    dimensions = (UsageDimension.TAG, UsageDimension.MODEL)
    assert usage_family(scope, plain, dimensions) is None
    groups = await usage_breakdown(scope, plain, dimensions, limit=100)
    assert {g.key: g.totals for g in groups} == by_groups(
        in_range, lambda r: [(t, r.model) for t in tags_of(r)]
    )
    groups = await usage_breakdown(scope, tagged, (UsageDimension.TAG,), limit=100)
    assert {g.key: g.totals for g in groups} == by_groups(
        chosen, lambda r: [(t,) for t in tags_of(r)]
    )

    # Totals under any / all (tag rollup for one tag, raw rows otherwise).
    assert await usage_totals(scope, tagged) == expected_measures(chosen)
    by_end_user = LogFilter(time_range=time_range, timezone=tz, end_users=scenario.end_users)
    assert await usage_totals(scope, by_end_user) == expected_measures(
        [r for r in in_range if r.end_user in scenario.end_users]
    )

    # A Member's one-tag totals and end users: the raw rows (no rollup keeps a member's
    # tags or end users), their own requests only.
    alice = members[0]
    member_scope = Scope(
        organization_id=org.id, member_id=alice.id, viewer_member_id=alice.id, sees_team=False
    )
    one_tag = LogFilter(time_range=time_range, timezone=tz, tags_all=(TAGS[0],))
    assert usage_family(member_scope, one_tag) is None
    assert await usage_totals(member_scope, one_tag) == expected_measures(
        [r for r in in_range if r.member_id == alice.id and TAGS[0] in r.tags]
    )
    assert usage_family(member_scope, by_end_user) is None
    assert await usage_totals(member_scope, by_end_user) == expected_measures(
        [r for r in in_range if r.member_id == alice.id and r.end_user in scenario.end_users]
    )

    # Trend split by TAG: local buckets, exact in every zone.
    trend = await usage_trend(scope, plain, scenario.granularity, UsageDimension.TAG, limit=100)
    expected_series = {
        tag: by_groups(
            [r for r in in_range if tag in tags_of(r)],
            lambda r: [local_bucket(r.timestamp, scenario.granularity, tz)],
        )
        for tag in {t for r in in_range for t in tags_of(r)}
    }
    assert {s.group.key[0] for s in trend.series} == set(expected_series)
    for series in trend.series:
        expected = expected_series[str(series.group.key[0])]
        for bucket in series.buckets:
            wanted = expected.get(local_bucket(bucket.start, scenario.granularity, tz))
            assert bucket.totals == (wanted or UsageMeasures())
    # The plain buckets stay the request totals: tags never count a request twice there.
    assert sum(b.totals.requests for b in trend.buckets) == len(in_range)

    stored = {
        family.table(grain): {
            k: v for k, v in (await table_rows(family, grain)).items() if k[0] == org.id
        }
        for family in (USAGE_BY_TEAM_TAG, USAGE_BY_TEAM_END_USER)
        for grain in family.grains
    }
    assert stored == expected_attribution_tables(records)


async def test_a_request_with_two_tags_counts_in_both_groups_not_twice_in_the_total(
    db: Settings,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, None)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    both = make_record(org, key, None, at, tags=("a", "b"), provider_cost_nanos=1_000)
    only_a = make_record(org, key, None, at, tags=("a",), provider_cost_nanos=10)
    await store(both, only_a)
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=owner.id, sees_team=True)
    log_filter = LogFilter(time_range=TimeRange(at, at + timedelta(hours=1)), timezone=UTC)

    groups = await usage_breakdown(scope, log_filter, (UsageDimension.TAG,))
    totals = await usage_totals(scope, log_filter)

    assert [(g.key, g.totals.requests, g.totals.provider_cost_nanos) for g in groups] == [
        (("a",), 2, 1_010),
        (("b",), 1, 1_000),
    ]
    assert (totals.requests, totals.provider_cost_nanos) == (2, 1_010)
