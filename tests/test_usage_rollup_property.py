"""Property: totals, DAY/HOUR trend buckets and breakdowns read from the rollups equal a plain
scan of the raw records, to the last nano-dollar and token; every rollup table (the full
rollup, each cube, each latency histogram) holds exactly the aggregate of the records; and the
latency histograms read over a range hold exactly the records' latency buckets.

Every log also carries random token classes (cache reads and writes, reasoning, request
units) and cost classes (the savings signed), so the issue-14 measures are checked alike.

Random logs land around DST changes (Europe/Berlin, America/New_York) and in the half- and
three-quarter-hour zones Asia/Kolkata (+05:30) and Asia/Kathmandu (+05:45); ranges have
arbitrary second-precision edges, so every grain (DAY, HOUR, QUARTER) and the raw edges are
exercised. The expected values are computed here, in plain Python over the records written,
and trend buckets are matched by their local clock reading, independently of the bucketing
code under test. The breakdown dimension sets make the reader use every usage family: the
model cube (totals, trends, MODEL), the model-and-status cube (STATUS_CODE), the key and
member cubes and the full rollup (MODEL with MEMBER, ENDPOINT..., and PROVIDER, which only
the full rollup carries).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.latency_rollup import LATENCY_BY_MODEL_STATUS, LATENCY_TOTAL, latency_bucket
from models.member import Role
from models.priced_record import PricedRecord
from resolvers.latency_histogram import read_histograms
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import usage_breakdown, usage_totals, usage_trend
from resolvers.usage_dimensions import UsageDimension
from resolvers.usage_measures import UsageMeasures
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store
from tests.rollup_snapshots import expected_snapshot, snapshot

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")
# DST changes: Berlin spring/autumn 2024, New York spring/autumn 2024 (UTC instants).
ANCHORS = (
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
)
SPAN_SECONDS = 4 * 24 * 3600
MODELS = ("gpt-4", "claude-3-opus", "gpt-3.5-turbo")
STATUS_CODES = (200, 201, 400, 429, 500, 503)
DIMENSION_SETS = (
    (UsageDimension.MODEL,),
    (UsageDimension.API_KEY,),
    (UsageDimension.MEMBER,),
    (UsageDimension.STATUS_CODE,),
    (UsageDimension.MODEL, UsageDimension.MEMBER),
    (UsageDimension.ENDPOINT, UsageDimension.PROVIDER_MODEL, UsageDimension.API_KEY),
    (UsageDimension.PROVIDER,),
    (UsageDimension.PROVIDER, UsageDimension.MODEL),
)
# One model can reach the log with different providers (a gateway's own `provider` field).
PROVIDERS = ("openai", "azure", "anthropic", "unknown")


@dataclass(frozen=True)
class LogSpec:
    offset_seconds: int
    key: int
    member: int | None
    model: str
    provider: str
    endpoint: str
    status_code: int
    input_tokens: int
    output_tokens: int
    provider_cost_nanos: int
    priced: bool
    latency_ms: int
    # Token classes (canonical: parts of input/output, drawn as such) and cost classes.
    cache_share: tuple[int, int, int] = (0, 0, 0)
    reasoning_share: int = 0
    request_units: int = 0
    class_costs: tuple[int, ...] = (0,) * 7


@dataclass(frozen=True)
class Scenario:
    zone: str
    anchor: datetime
    logs: list[LogSpec]
    start_offset: int
    end_offset: int
    granularity: Granularity
    dimensions: tuple[UsageDimension, ...]


log_specs = st.builds(
    LogSpec,
    offset_seconds=st.integers(0, SPAN_SECONDS - 1),
    key=st.integers(0, 2),
    member=st.one_of(st.none(), st.integers(0, 1)),
    model=st.sampled_from(MODELS),
    provider=st.sampled_from(PROVIDERS),
    endpoint=st.sampled_from(("/v1/chat/completions", "/v1/embeddings")),
    status_code=st.sampled_from(STATUS_CODES),
    input_tokens=st.integers(0, 3_000_000_000),
    output_tokens=st.integers(0, 1_000_000),
    provider_cost_nanos=st.integers(0, 50_000_000_000),
    priced=st.booleans(),
    latency_ms=st.integers(0, 120_000),
    cache_share=st.tuples(st.integers(0, 40), st.integers(0, 30), st.integers(0, 30)),
    reasoning_share=st.integers(0, 100),
    request_units=st.integers(0, 50),
    class_costs=st.tuples(
        *(st.integers(0, 5_000_000_000) for _ in range(6)),
        st.integers(-5_000_000_000, 5_000_000_000),
    ),
)


def class_fields(spec: LogSpec) -> dict[str, int]:
    """The record's token and cost classes: cache counts as percentages of its input tokens,
    reasoning as a percentage of its output tokens (so the canonical subsets hold)."""
    read, five, hour = (spec.input_tokens * share // 100 for share in spec.cache_share)
    costs = dict(
        zip(
            (
                "input_cost_nanos",
                "cache_read_cost_nanos",
                "cache_write_cost_nanos",
                "output_cost_nanos",
                "reasoning_cost_nanos",
                "request_cost_nanos",
                "cache_savings_nanos",
            ),
            spec.class_costs,
            strict=True,
        )
    )
    return {
        "cache_read_tokens": read,
        "cache_write_5m_tokens": five,
        "cache_write_1h_tokens": hour,
        "reasoning_tokens": spec.output_tokens * spec.reasoning_share // 100,
        "request_units": spec.request_units,
        **costs,
    }


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    start = draw(st.integers(0, SPAN_SECONDS - 1))
    return Scenario(
        zone=draw(st.sampled_from(ZONES)),
        anchor=draw(st.sampled_from(ANCHORS)),
        logs=draw(st.lists(log_specs, min_size=5, max_size=30)),
        start_offset=start,
        end_offset=draw(st.integers(start + 1, SPAN_SECONDS)),
        granularity=draw(st.sampled_from((Granularity.DAY, Granularity.HOUR))),
        dimensions=draw(st.sampled_from(DIMENSION_SETS)),
    )


def expected_measures(records: list[PricedRecord]) -> UsageMeasures:
    """The sums, computed from the records exactly as a reader of the raw log would."""
    return UsageMeasures(
        requests=len(records),
        successful=sum(1 for r in records if 200 <= r.status_code < 300),
        client_errors=sum(1 for r in records if 400 <= r.status_code < 500),
        server_errors=sum(1 for r in records if 500 <= r.status_code < 600),
        unpriced=sum(1 for r in records if not r.priced),
        input_tokens=sum(r.input_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
        provider_cost_nanos=sum(r.provider_cost_nanos for r in records),
        markup_nanos=sum(r.markup_nanos for r in records),
        fixed_fee_nanos=sum(r.fixed_fee_nanos for r in records),
        customer_cost_nanos=sum(r.customer_cost_nanos for r in records),
        latency_ms_sum=sum(r.latency_ms for r in records),
        cache_read_tokens=sum(r.cache_read_tokens for r in records),
        cache_write_5m_tokens=sum(r.cache_write_5m_tokens for r in records),
        cache_write_1h_tokens=sum(r.cache_write_1h_tokens for r in records),
        reasoning_tokens=sum(r.reasoning_tokens for r in records),
        request_units=sum(r.request_units for r in records),
        input_cost_nanos=sum(r.input_cost_nanos for r in records),
        cache_read_cost_nanos=sum(r.cache_read_cost_nanos for r in records),
        cache_write_cost_nanos=sum(r.cache_write_cost_nanos for r in records),
        output_cost_nanos=sum(r.output_cost_nanos for r in records),
        reasoning_cost_nanos=sum(r.reasoning_cost_nanos for r in records),
        request_cost_nanos=sum(r.request_cost_nanos for r in records),
        cache_savings_nanos=sum(r.cache_savings_nanos for r in records),
    )


def grouped(
    records: list[PricedRecord], key: Callable[[PricedRecord], Hashable]
) -> dict[Any, UsageMeasures]:
    groups: dict[Any, list[PricedRecord]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return {k: expected_measures(v) for k, v in groups.items()}


def local_bucket(instant: datetime, granularity: Granularity, tz: ZoneInfo) -> Hashable:
    """The local calendar unit an instant falls in, read off the wall clock."""
    local = instant.astimezone(tz)
    if granularity is Granularity.DAY:
        return local.date()
    # An hour repeated by a fall-back is told apart by its UTC offset.
    return (local.date(), local.hour, local.utcoffset())


def dimension_value(record: PricedRecord, dimension: UsageDimension) -> str | int:
    return {
        UsageDimension.MODEL: record.model,
        UsageDimension.PROVIDER_MODEL: record.provider_model,
        UsageDimension.API_KEY: record.api_key_id,
        UsageDimension.MEMBER: record.member_id or 0,
        UsageDimension.STATUS_CODE: record.status_code,
        UsageDimension.ENDPOINT: record.endpoint,
        UsageDimension.PROVIDER: record.provider,
    }[dimension]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_rollup_reads_equal_a_scan_of_the_raw_records(
    db: Settings, scenario: Scenario
) -> None:
    tz = ZoneInfo(scenario.zone)
    org = await make_org(timezone=scenario.zone, markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    members = [await make_member(org, Role.MEMBER) for _ in range(2)]
    keys = [await make_key(org, None) for _ in range(3)]
    base = scenario.anchor - timedelta(days=2)
    records = [
        make_record(
            org,
            keys[spec.key],
            None if spec.member is None else members[spec.member],
            base + timedelta(seconds=spec.offset_seconds),
            model=spec.model,
            provider=spec.provider,
            endpoint=spec.endpoint,
            status_code=spec.status_code,
            input_tokens=spec.input_tokens,
            output_tokens=spec.output_tokens,
            provider_cost_nanos=spec.provider_cost_nanos,
            priced=spec.priced,
            latency_ms=spec.latency_ms,
            **class_fields(spec),
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
    log_filter = LogFilter(time_range=time_range, timezone=tz)

    assert await usage_totals(scope, log_filter) == expected_measures(in_range)

    trend = await usage_trend(scope, log_filter, scenario.granularity)
    assert trend.buckets[0].start <= time_range.start < trend.buckets[0].end
    assert trend.buckets[-1].start < time_range.end <= trend.buckets[-1].end
    for earlier, later in zip(trend.buckets, trend.buckets[1:], strict=False):
        assert earlier.end == later.start
    expected_buckets = grouped(
        in_range, lambda r: local_bucket(r.timestamp, scenario.granularity, tz)
    )
    actual_buckets = {
        local_bucket(b.start, scenario.granularity, tz): b.totals for b in trend.buckets
    }
    assert len(actual_buckets) == len(trend.buckets)
    for bucket, totals in actual_buckets.items():
        assert totals == expected_buckets.get(bucket, UsageMeasures()), bucket
    assert set(expected_buckets) <= set(actual_buckets)

    groups = await usage_breakdown(scope, log_filter, scenario.dimensions, limit=100)
    expected_groups = grouped(
        in_range, lambda r: tuple(dimension_value(r, d) for d in scenario.dimensions)
    )
    assert {g.key: g.totals for g in groups} == expected_groups

    stored = {
        table: {key: values for key, values in rows.items() if key[0] == org.id}
        for table, rows in (await snapshot()).items()
    }
    assert stored == expected_snapshot(records)

    histograms = await read_histograms(scope, log_filter, LATENCY_TOTAL)
    assert histograms.scanned == len(in_range)
    assert {k: h.counts for k, h in histograms.groups.items()} == (
        {(): dict(Counter(latency_bucket(r.latency_ms) for r in in_range))} if in_range else {}
    )
    by_model = await read_histograms(
        scope, log_filter, LATENCY_BY_MODEL_STATUS, UsageDimension.MODEL
    )
    expected_by_model: dict[tuple[str], Counter[int]] = defaultdict(Counter)
    for record in in_range:
        expected_by_model[(record.model,)][latency_bucket(record.latency_ms)] += 1
    assert {k: h.counts for k, h in by_model.groups.items()} == {
        k: dict(v) for k, v in expected_by_model.items()
    }
