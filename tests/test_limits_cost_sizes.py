"""Every list's size is counted before anything runs: trend buckets from the period and
granularity, series, columns, top-N lists, fixed bounds (graph/cost_sizes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, parse

from graph.cost_introspection import Size
from graph.cost_sizes import FAILED_STATUS_CODES, PredictionClock, SizeFrame, SizeRules
from graph.limits import PAGE_SIZE_ARGUMENTS, requested_cost, select_operation, unwrap
from graph.schema import schema
from models.organization import Organization

SCHEMA = schema._schema
NOON_30 = datetime(2024, 5, 10, 12, 30, tzinfo=UTC)
UTC_ORG = PredictionClock(NOON_30, Organization(timezone="UTC", billing_anchor_day=1))


def _requested(query: str, clock: PredictionClock = UTC_ORG, **variables: Any) -> Size:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    cost = requested_cost(SCHEMA, document, operation, variables, clock)
    return Size(cost.points, cost.nodes)


def _trend(filter_: str, trend_arguments: str, selection: str) -> str:
    return (
        f"{{ organization {{ usage(filter: {filter_}) {{ "
        f"trend({trend_arguments}) {{ {selection} }} }} }} }}"
    )


def test_every_list_field_of_the_schema_has_a_bound() -> None:
    rules = SizeRules(SCHEMA, UTC_ORG)
    unbounded = []
    for type_ in SCHEMA.type_map.values():
        if type_.name.startswith("__"):
            continue  # introspection: counted from the schema itself
        if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for name, field in type_.fields.items():
            _, is_list = unwrap(field.type)
            if not is_list:
                continue
            if rules.list_size(type_.name, name, lambda _: 5, SizeFrame()) is not None:
                continue
            connection = any(
                arg in f.args for f in _parents_of(type_) for arg in PAGE_SIZE_ARGUMENTS
            )
            if name == "edges" and connection:
                continue
            unbounded.append(f"{type_.name}.{name}")
    assert unbounded == []


def _parents_of(connection: GraphQLObjectType | GraphQLInterfaceType) -> list[Any]:
    """Fields returning `connection`."""
    return [
        field
        for type_ in SCHEMA.type_map.values()
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        for field in type_.fields.values()
        if unwrap(field.type)[0] is connection
    ]


def test_hourly_trend_over_two_days_split_three_ways_with_two_measures() -> None:
    query = _trend(
        '{from: "2024-05-01T00:00:00Z", to: "2024-05-03T00:00:00Z"}',
        "granularity: HOUR, splitBy: MODEL, limit: 3",
        "series { buckets { totals { requests customerCost } } }",
    )
    # organization 1 + usage 1 + trend 10 + series 1
    # + 3 series x (buckets 1 + 48 buckets x (totals 1 + 2 measures))
    assert _requested(query).points == 13 + 3 * (1 + 48 * 3)
    # nodes: 4 fields + 3 series items + 3 x (buckets 1 + 48 items + 48 x 3 fields)
    assert _requested(query).nodes == 4 + 3 + 3 * (1 + 48 + 48 * 3)


def test_the_attack_trend_is_predicted_at_its_real_size() -> None:
    measures = (
        "requests successful failed successRate inputTokens outputTokens totalTokens "
        "providerCost markup fixedFees customerCost averageCostPerRequest averageLatencyMs "
        "clientErrors serverErrors unpricedRequests errorRate"
    )
    query = _trend(
        '{from: "2024-03-01T00:00:00Z", to: "2024-04-30T00:00:00Z"}',
        "granularity: HOUR, splitBy: MODEL, limit: 100",
        f"series {{ model buckets {{ start end totals {{ {measures} }} }} }}",
    )
    # 60 days = 1440 hours; per series: model 1 + buckets 1 + 1440 x (start end totals + 17)
    assert _requested(query).points == 13 + 100 * (2 + 1440 * 20)


def test_a_trailing_period_counts_the_buckets_it_reaches_from_now() -> None:
    query = _trend("{period: LAST_24_HOURS}", "granularity: HOUR", "buckets { start }")
    # [9 May 12:30, 10 May 12:30): the first and last hours are partial: 25 buckets
    assert _requested(query).points == 12 + 1 + 25
    on_the_hour = PredictionClock(datetime(2024, 5, 10, 12, tzinfo=UTC), UTC_ORG.organization)
    assert _requested(query, on_the_hour).points == 12 + 1 + 24


def test_the_billing_period_follows_the_organizations_anchor_day_and_timezone() -> None:
    org = Organization(timezone="Asia/Tokyo", billing_anchor_day=15)
    query = _trend("{period: CURRENT_BILLING_PERIOD}", "granularity: DAY", "buckets { start }")
    # 10 May (Tokyo) lies in 15 April - 15 May: 30 local days
    assert _requested(query, PredictionClock(NOON_30, org)).points == 12 + 1 + 30


def test_a_daylight_saving_fall_back_day_has_25_hours() -> None:
    query = _trend(
        '{from: "2024-11-03T00:00:00-04:00", to: "2024-11-04T00:00:00-05:00", '
        'timezone: "America/New_York"}',
        "granularity: HOUR",
        "buckets { start }",
    )
    assert _requested(query).points == 12 + 1 + 25


def test_each_column_array_counts_one_item_per_bucket() -> None:
    query = _trend(
        '{from: "2024-05-01T00:00:00Z", to: "2024-05-08T00:00:00Z"}',
        "granularity: DAY",
        "columns { start requests customerCost }",
    )
    # columns 1 + 3 arrays x (1 + 7 items)
    assert _requested(query) == Size(12 + 1 + 3 * 8, 3 + 1 + 3 * 8)


def test_variables_give_the_period_and_the_granularity() -> None:
    query = """
    query T($filter: UsageFilter, $granularity: TrendGranularity) {
      organization { usage(filter: $filter) {
        trend(granularity: $granularity) { buckets { start } }
      } }
    }"""
    week = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-08T00:00:00Z"}
    assert _requested(query, filter=week, granularity="HOUR").points == 12 + 1 + 168
    assert _requested(query, filter=week).points == 12 + 1 + 7  # DAY by default


def test_a_trend_the_resolver_refuses_predicts_no_buckets() -> None:
    query = _trend(
        '{from: "2020-01-01T00:00:00Z", to: "2024-01-01T00:00:00Z"}',
        "granularity: HOUR",
        "buckets { start }",
    )
    # more than 1500 buckets: the trend is refused (BAD_USER_INPUT), nothing below it runs
    assert _requested(query).points == 12 + 1


def test_an_unsplit_trend_has_no_series() -> None:
    query = _trend("{period: LAST_7_DAYS}", "granularity: DAY", "series { model }")
    assert _requested(query).points == 12 + 1


def test_error_groups_are_bounded_by_limit_top_five_and_the_failed_status_codes() -> None:
    query = """{ organization { usage { errors {
      byStatusCode(limit: 4) { statusCode topModels { model } }
      byPattern(limit: 2) { statusCodes topApiKeys { requests } }
    } } } }"""
    by_status = 1 + 4 * (1 + 1 + 5 * 1)
    by_pattern = 1 + 2 * ((1 + FAILED_STATUS_CODES) + 1 + 5 * 1)
    assert _requested(query).points == 1 + 1 + 10 + by_status + by_pattern


@pytest.mark.parametrize(
    ("selection", "points"),
    [
        ("apiKeys { label }", 1 + 1 + 100),
        ("apiKeys(limit: 3) { label allowedModels }", 1 + 1 + 3 * (1 + 1 + 200)),
        ("members(limit: 1000) { name }", 1 + 1 + 1000),
        ("alertRules { id }", 1 + 1 + 100),
        ("apiKeys(limit: 2) { usage { modelsUsed(limit: 4) } }", 1 + 1 + 2 * (10 + 1 + 4)),
        ("usage { breakdown(by: [MODEL]) { model } }", 1 + 1 + 10 + 20),
        ("usage { latency { groups(by: MODEL, limit: 7) { model p99Ms } } }", 2 + 10 + 1 + 7 * 2),
    ],
)
def test_plain_lists_are_bounded_by_their_limit_or_a_fixed_maximum(
    selection: str, points: int
) -> None:
    assert _requested(f"{{ organization {{ {selection} }} }}").points == points


def test_a_limit_out_of_range_predicts_nothing_below_the_refused_field() -> None:
    assert _requested("{ organization { apiKeys(limit: 5000) { label } } }").points == 2


def test_rejected_records_are_bounded_by_the_records_sent() -> None:
    query = """mutation M($records: [RequestLogInput!]!) {
      ingestRequestLogs(records: $records) { accepted rejected { position reason } }
    }"""
    records = [{"requestId": str(n)} for n in range(3)]
    # ingestRequestLogs 1 + accepted 1 + rejected 1 + 3 x (position reason)
    assert _requested(query, records=records).points == 3 + 3 * 2
