"""UsageReport.comparison: previous period, week over week and month over month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from models.member import Role
from resolvers.periods import TimeRange
from resolvers.usage_comparison import comparison_window, month_earlier, week_earlier
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

PERIOD_FIELDS = """
from to previousFrom previousTo
current { requests totalTokens customerCost }
previous { requests totalTokens customerCost }
requestsGrowthPercent tokensGrowthPercent customerCostGrowthPercent
"""
COMPARISON = f"""
query($filter: UsageFilter) {{
  organization {{ usage(filter: $filter) {{
    comparison {{
      {PERIOD_FIELDS}
      weekOverWeek {{ {PERIOD_FIELDS} }}
      monthOverMonth {{ {PERIOD_FIELDS} }}
    }}
  }} }}
}}
"""
NEW_YORK = ZoneInfo("America/New_York")


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def test_week_earlier_is_exactly_168_hours_back() -> None:
    window = TimeRange(_local(2024, 3, 12, 9), _local(2024, 3, 12, 17))

    earlier = week_earlier(window)

    assert earlier.start == window.start - timedelta(hours=168)
    # Across the DST change of 10 March the local clock reads one hour off.
    assert earlier.start.astimezone(NEW_YORK).hour == 8


def test_month_earlier_keeps_local_clock_readings() -> None:
    window = TimeRange(_local(2024, 4, 1), _local(2024, 5, 1))

    earlier = month_earlier(window, NEW_YORK)

    assert earlier == TimeRange(_local(2024, 3, 1), _local(2024, 4, 1))


def test_month_earlier_clamps_to_the_last_day_of_a_shorter_month() -> None:
    window = TimeRange(_local(2024, 3, 31, 10), _local(2024, 3, 31, 12))

    earlier = month_earlier(window, NEW_YORK)

    assert earlier == TimeRange(_local(2024, 2, 29, 10), _local(2024, 2, 29, 12))


def test_month_earlier_keeps_the_length_when_clamping_would_empty_the_window() -> None:
    window = TimeRange(_local(2024, 3, 30, 10), _local(2024, 3, 31, 9))

    earlier = month_earlier(window, NEW_YORK)

    assert earlier == TimeRange(_local(2024, 2, 29, 9) - window.duration, _local(2024, 2, 29, 9))


def test_month_earlier_of_january_is_december() -> None:
    window = TimeRange(_local(2024, 1, 15), _local(2024, 1, 16))

    assert month_earlier(window, NEW_YORK).start == _local(2023, 12, 15)


def test_a_window_reaching_into_the_future_is_clipped_at_now() -> None:
    now = datetime(2024, 5, 10, 12, tzinfo=UTC)
    month = TimeRange(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
    past = TimeRange(datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC))

    assert comparison_window(month, now) == TimeRange(month.start, now)
    assert comparison_window(past, now) == past


async def _org() -> tuple[Any, Any, Any]:
    org = await make_org(timezone="America/New_York")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    return org, owner, key


async def test_growth_against_the_previous_period(client: httpx.AsyncClient) -> None:
    org, owner, key = await _org()
    day = _local(2024, 5, 14)
    await store(
        # this day: 3 requests, 450 tokens, $0.30
        *(make_record(org, key, owner, day + timedelta(hours=h)) for h in (1, 5, 23)),
        # the day before: 2 requests, 300 tokens, $0.20
        *(make_record(org, key, owner, day - timedelta(hours=h)) for h in (1, 24)),
        # two days before: outside both
        make_record(org, key, owner, day - timedelta(hours=24, seconds=1)),
    )
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    result = await gql(client, await make_token(owner), COMPARISON, filter=window)

    assert result.errors is None, result.errors
    comparison = result.data["organization"]["usage"]["comparison"]  # type: ignore[index]
    assert comparison["from"] == "2024-05-14T00:00:00.000000-04:00"
    assert comparison["previousFrom"] == "2024-05-13T00:00:00.000000-04:00"
    assert comparison["previousTo"] == "2024-05-14T00:00:00.000000-04:00"
    assert comparison["current"] == {"requests": 3, "totalTokens": 450, "customerCost": "0.30"}
    assert comparison["previous"] == {"requests": 2, "totalTokens": 300, "customerCost": "0.20"}
    assert comparison["requestsGrowthPercent"] == "50"
    assert comparison["tokensGrowthPercent"] == "50"
    assert comparison["customerCostGrowthPercent"] == "50"


async def test_growth_is_null_when_the_earlier_window_is_empty(client: httpx.AsyncClient) -> None:
    org, owner, key = await _org()
    day = _local(2024, 5, 14)
    await store(make_record(org, key, owner, day))
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    result = await gql(client, await make_token(owner), COMPARISON, filter=window)

    comparison = result.data["organization"]["usage"]["comparison"]  # type: ignore[index]
    for period in (comparison, comparison["weekOverWeek"], comparison["monthOverMonth"]):
        assert period["requestsGrowthPercent"] is None
        assert period["customerCostGrowthPercent"] is None


async def test_week_over_week_and_month_over_month_in_one_report(
    client: httpx.AsyncClient,
) -> None:
    org, owner, key = await _org()
    day = _local(2024, 5, 14)
    await store(
        *(make_record(org, key, owner, day + timedelta(hours=2)) for _ in range(3)),
        *(make_record(org, key, owner, day - timedelta(days=7)) for _ in range(4)),
        make_record(org, key, owner, _local(2024, 4, 14, 12)),
        make_record(org, key, owner, _local(2024, 4, 14, 12), output_tokens=150),
    )
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    result = await gql(client, await make_token(owner), COMPARISON, filter=window)

    assert result.errors is None, result.errors
    comparison = result.data["organization"]["usage"]["comparison"]  # type: ignore[index]
    week = comparison["weekOverWeek"]
    month = comparison["monthOverMonth"]
    assert week["previousFrom"] == "2024-05-07T00:00:00.000000-04:00"
    assert week["previous"]["requests"] == 4
    assert week["requestsGrowthPercent"] == "-25"
    assert month["previousFrom"] == "2024-04-14T00:00:00.000000-04:00"
    assert month["previousTo"] == "2024-04-15T00:00:00.000000-04:00"
    assert month["previous"] == {"requests": 2, "totalTokens": 400, "customerCost": "0.20"}
    assert month["requestsGrowthPercent"] == "50"
    assert month["tokensGrowthPercent"] == "12.5"


async def test_member_comparison_covers_only_their_requests(client: httpx.AsyncClient) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    day = datetime(2024, 5, 14, tzinfo=UTC)
    await store(
        make_record(org, key, member, day),
        make_record(org, key, member, day - timedelta(hours=3)),
        make_record(org, key, colleague, day - timedelta(hours=3)),
    )
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    result = await gql(client, await make_token(member), COMPARISON, filter=window)

    comparison = result.data["organization"]["usage"]["comparison"]  # type: ignore[index]
    assert comparison["previous"]["requests"] == 1
    assert comparison["requestsGrowthPercent"] == "0"


async def test_current_billing_period_compares_the_period_so_far(
    client: httpx.AsyncClient,
) -> None:
    _, owner, _ = await _org()
    before = datetime.now(UTC)

    result = await gql(
        client, await make_token(owner), COMPARISON, filter={"period": "CURRENT_BILLING_PERIOD"}
    )

    assert result.errors is None, result.errors
    comparison = result.data["organization"]["usage"]["comparison"]  # type: ignore[index]
    end = datetime.fromisoformat(comparison["to"])
    assert before <= end <= datetime.now(UTC)
    start = datetime.fromisoformat(comparison["from"])
    assert datetime.fromisoformat(comparison["previousTo"]) == start
