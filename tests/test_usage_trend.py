"""UsageReport.trend: zero-filled local calendar buckets, split series, DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.global_ids import encode_global_id
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

TREND = """
query Trend($filter: UsageFilter, $granularity: TrendGranularity!, $splitBy: UsageDimension,
            $limit: Int! = 20) {
  organization { usage(filter: $filter) {
    trend(granularity: $granularity, splitBy: $splitBy, limit: $limit) {
      granularity timezone
      buckets { start end totals { requests customerCost } }
      series {
        model hasMember member { name } apiKey { label }
        totals { requests customerCost }
        buckets { start totals { requests customerCost } }
      }
    }
  } }
}
"""


async def _trend(
    client: httpx.AsyncClient, viewer: Any, filter: dict[str, Any], **variables: Any
) -> Any:
    return await gql(client, await make_token(viewer), TREND, filter=filter, **variables)


def _data(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    return dict(result.data["organization"]["usage"]["trend"])


async def test_daily_buckets_are_zero_filled(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, datetime(2024, 5, 1, 12, tzinfo=UTC)),
        make_record(org, key, owner, datetime(2024, 5, 4, 23, 59, 59, tzinfo=UTC)),
        make_record(org, key, owner, datetime(2024, 5, 4, 0, 0, tzinfo=UTC)),
    )

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-05-01T00:00:00Z", "to": "2024-05-05T00:00:00Z"},
            granularity="DAY",
        )
    )

    assert trend["granularity"] == "DAY"
    assert trend["timezone"] == "UTC"
    assert [b["start"] for b in trend["buckets"]] == [
        "2024-05-01T00:00:00.000000+00:00",
        "2024-05-02T00:00:00.000000+00:00",
        "2024-05-03T00:00:00.000000+00:00",
        "2024-05-04T00:00:00.000000+00:00",
    ]
    assert trend["buckets"][-1]["end"] == "2024-05-05T00:00:00.000000+00:00"
    assert [b["totals"]["requests"] for b in trend["buckets"]] == [1, 0, 0, 2]
    assert [b["totals"]["customerCost"] for b in trend["buckets"]] == [
        "0.10",
        "0.00",
        "0.00",
        "0.20",
    ]
    assert trend["series"] == []


async def test_spring_forward_day_has_23_hourly_buckets(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Europe/Berlin")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    # 2024-03-31: Berlin skips 02:00-03:00 local. 01:30 UTC is 03:30 CEST.
    await store(make_record(org, key, owner, datetime(2024, 3, 31, 1, 30, tzinfo=UTC)))

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-03-31T00:00:00.000000+01:00", "to": "2024-04-01T00:00:00.000000+02:00"},
            granularity="HOUR",
        )
    )

    starts = [b["start"] for b in trend["buckets"]]
    assert len(starts) == 23
    assert starts[:3] == [
        "2024-03-31T00:00:00.000000+01:00",
        "2024-03-31T01:00:00.000000+01:00",
        "2024-03-31T03:00:00.000000+02:00",
    ]
    counts = {b["start"]: b["totals"]["requests"] for b in trend["buckets"]}
    assert counts["2024-03-31T03:00:00.000000+02:00"] == 1
    assert sum(counts.values()) == 1


async def test_fall_back_day_has_25_hourly_buckets_with_the_repeated_hour_twice(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(timezone="America/New_York")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    # 2024-11-03: New York repeats 01:00-02:00 local (EDT, then EST).
    await store(
        make_record(org, key, owner, datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),  # 01:30 EDT
        make_record(org, key, owner, datetime(2024, 11, 3, 6, 30, tzinfo=UTC)),  # 01:30 EST
        make_record(org, key, owner, datetime(2024, 11, 3, 6, 45, tzinfo=UTC)),  # 01:45 EST
    )

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-11-03T00:00:00.000000-04:00", "to": "2024-11-04T00:00:00.000000-05:00"},
            granularity="HOUR",
        )
    )

    counts = {b["start"]: b["totals"]["requests"] for b in trend["buckets"]}
    assert len(counts) == 25
    assert counts["2024-11-03T01:00:00.000000-04:00"] == 1
    assert counts["2024-11-03T01:00:00.000000-05:00"] == 2


async def test_dst_days_are_23_and_25_hours_long_as_daily_buckets(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(timezone="America/New_York")
    owner = await make_member(org, Role.OWNER)

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-03-10T00:00:00.000000-05:00", "to": "2024-03-11T00:00:00.000000-04:00"},
            granularity="DAY",
        )
    )

    [bucket] = trend["buckets"]
    assert bucket["start"] == "2024-03-10T00:00:00.000000-05:00"
    assert bucket["end"] == "2024-03-11T00:00:00.000000-04:00"


async def test_kathmandu_days_start_at_local_midnight(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Asia/Kathmandu")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, datetime(2024, 5, 1, 18, 14, 59, tzinfo=UTC)),  # 23:59:59
        make_record(org, key, owner, datetime(2024, 5, 1, 18, 15, tzinfo=UTC)),  # 00:00 next day
    )

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-05-01T00:00:00.000000+05:45", "to": "2024-05-03T00:00:00.000000+05:45"},
            granularity="DAY",
        )
    )

    assert [(b["start"], b["totals"]["requests"]) for b in trend["buckets"]] == [
        ("2024-05-01T00:00:00.000000+05:45", 1),
        ("2024-05-02T00:00:00.000000+05:45", 1),
    ]


async def test_buckets_are_whole_units_but_count_only_the_range(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Asia/Kolkata")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, datetime(2024, 5, 1, 0, 0, tzinfo=UTC)),  # 05:30 local
        make_record(org, key, owner, datetime(2024, 5, 1, 4, 0, tzinfo=UTC)),  # 09:30 local
    )

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-05-01T06:00:00.000000+05:30", "to": "2024-05-01T12:00:00.000000+05:30"},
            granularity="DAY",
        )
    )

    [bucket] = trend["buckets"]
    assert bucket["start"] == "2024-05-01T00:00:00.000000+05:30"
    assert bucket["end"] == "2024-05-02T00:00:00.000000+05:30"
    assert bucket["totals"]["requests"] == 1


async def test_weekly_buckets_start_on_monday_and_monthly_on_the_first(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    window = {"from": "2024-01-10T00:00:00Z", "to": "2024-03-05T00:00:00Z"}

    weeks = _data(await _trend(client, owner, window, granularity="WEEK"))
    months = _data(await _trend(client, owner, window, granularity="MONTH"))

    assert weeks["buckets"][0]["start"] == "2024-01-08T00:00:00.000000+00:00"  # a Monday
    assert len(weeks["buckets"]) == 9
    assert [b["start"] for b in months["buckets"]] == [
        "2024-01-01T00:00:00.000000+00:00",
        "2024-02-01T00:00:00.000000+00:00",
        "2024-03-01T00:00:00.000000+00:00",
    ]


async def test_team_spending_trend_is_daily_split_by_member(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN, name="Ada")
    member = await make_member(org, Role.MEMBER, name="Bob")
    team_key = await make_key(org, None)
    day = datetime(2024, 5, 1, 12, tzinfo=UTC)
    await store(
        make_record(org, team_key, admin, day),
        make_record(org, team_key, member, day),
        make_record(org, team_key, member, day + timedelta(days=1)),
        make_record(org, team_key, None, day + timedelta(days=1), provider_cost_nanos=5),
    )

    trend = _data(
        await _trend(
            client,
            admin,
            {"from": "2024-05-01T00:00:00Z", "to": "2024-05-03T00:00:00Z"},
            granularity="DAY",
            splitBy="MEMBER",
        )
    )

    assert [b["totals"]["requests"] for b in trend["buckets"]] == [2, 2]
    series = [
        (
            s["member"]["name"] if s["member"] else None,
            s["hasMember"],
            s["totals"]["customerCost"],
            [b["totals"]["customerCost"] for b in s["buckets"]],
        )
        for s in trend["series"]
    ]
    assert series == [
        ("Bob", True, "0.20", ["0.10", "0.10"]),
        ("Ada", True, "0.10", ["0.10", "0.00"]),
        (None, False, "0.000000005", ["0.00", "0.000000005"]),
    ]


async def test_split_series_are_limited_to_the_top_by_cost(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    await store(
        make_record(org, key, owner, at, model="cheap", provider_cost_nanos=1),
        make_record(org, key, owner, at, model="dear", provider_cost_nanos=9),
        make_record(org, key, owner, at, model="mid", provider_cost_nanos=5),
    )

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
            granularity="DAY",
            splitBy="MODEL",
            limit=2,
        )
    )

    assert [s["model"] for s in trend["series"]] == ["dear", "mid"]
    assert trend["buckets"][0]["totals"]["requests"] == 3


async def test_member_trend_covers_own_requests_and_cannot_be_split(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    await store(make_record(org, key, member, at), make_record(org, key, colleague, at))
    window = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}

    own = _data(await _trend(client, member, window, granularity="DAY"))
    for dimension in ("MEMBER", "API_KEY", "MODEL"):
        split = await _trend(client, member, window, granularity="DAY", splitBy=dimension)
        assert split.error_codes == ["FORBIDDEN"], dimension

    assert own["buckets"][0]["totals"]["requests"] == 1


async def test_too_many_buckets_is_a_clear_input_error(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)

    result = await _trend(
        client,
        owner,
        {"from": "2023-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
        granularity="HOUR",
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "granularity" in result.errors[0]["message"]  # type: ignore[index]


async def test_a_long_hourly_trend_sums_every_bucket(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Asia/Kolkata")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    start = datetime(2024, 5, 1, 0, 7, 3, tzinfo=UTC)
    records = [make_record(org, key, owner, start + timedelta(minutes=97 * i)) for i in range(300)]
    await store(*records)

    trend = _data(
        await _trend(
            client,
            owner,
            {"from": start.isoformat(), "to": (start + timedelta(days=21)).isoformat()},
            granularity="HOUR",
        )
    )

    assert len(trend["buckets"]) == 21 * 24 + 1
    assert sum(b["totals"]["requests"] for b in trend["buckets"]) == 300
    assert all(b["totals"]["requests"] <= 1 for b in trend["buckets"])


async def test_series_member_filter_by_id_applies_to_the_split(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)
    other = await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    await store(make_record(org, key, admin, at), make_record(org, key, other, at))

    trend = _data(
        await _trend(
            client,
            admin,
            {
                "from": "2024-05-01T00:00:00Z",
                "to": "2024-05-02T00:00:00Z",
                "memberIds": [encode_global_id("Member", other.id)],
            },
            granularity="DAY",
            splitBy="MEMBER",
        )
    )

    assert len(trend["series"]) == 1
    assert trend["series"][0]["member"]["name"] == other.name


COLUMNS = """
query Columns($filter: UsageFilter, $splitBy: UsageDimension) {
  organization { usage(filter: $filter) {
    trend(granularity: DAY, splitBy: $splitBy) {
      buckets { start end totals { requests failed inputTokens totalTokens customerCost
                                   averageCostPerRequest averageLatencyMs errorRate } }
      columns { start end requests failed inputTokens totalTokens customerCost
                averageCostPerRequest averageLatencyMs errorRate }
      series {
        model
        buckets { start totals { requests customerCost } }
        columns { start requests customerCost }
      }
    }
  } }
}
"""


async def test_columns_are_the_buckets_as_parallel_arrays(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Asia/Kolkata")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, datetime(2024, 5, 1, 12, tzinfo=UTC), model="gpt-4"),
        make_record(
            org, key, owner, datetime(2024, 5, 1, 13, tzinfo=UTC), model="claude", status_code=500
        ),
        make_record(org, key, owner, datetime(2024, 5, 3, 2, tzinfo=UTC), model="claude"),
    )
    filter = {"from": "2024-05-01T00:00:00.000000+05:30", "to": "2024-05-04T00:00:00.000000+05:30"}
    result = await gql(client, await make_token(owner), COLUMNS, filter=filter, splitBy="MODEL")
    trend = _data(result)

    columns = trend["columns"]
    assert columns["start"] == [
        "2024-05-01T00:00:00.000000+05:30",
        "2024-05-02T00:00:00.000000+05:30",
        "2024-05-03T00:00:00.000000+05:30",
    ]
    assert columns["requests"] == [2, 0, 1]
    assert columns["averageLatencyMs"][1] is None and columns["errorRate"][1] is None
    assert columns["errorRate"][0] == "50"
    for name in columns:
        if name in ("start", "end"):
            assert [b[name] for b in trend["buckets"]] == columns[name]
        else:
            assert [b["totals"][name] for b in trend["buckets"]] == columns[name]
    by_model = {s["model"]: s for s in trend["series"]}
    assert set(by_model) == {"gpt-4", "claude"}
    for series in by_model.values():
        assert series["columns"]["start"] == columns["start"]
        assert series["columns"]["requests"] == [b["totals"]["requests"] for b in series["buckets"]]
        assert series["columns"]["customerCost"] == [
            b["totals"]["customerCost"] for b in series["buckets"]
        ]
    assert by_model["claude"]["columns"]["requests"] == [1, 0, 1]
