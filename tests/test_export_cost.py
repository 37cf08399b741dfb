"""A usage export's size is predicted from its parameters before it runs, and an export
predicted above AIZE_MAX_EXPORT_COST is refused with 400 QUERY_TOO_COMPLEX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from exports.cost import ExportCost, predicted_breakdown_export_cost, predicted_trend_export_cost
from exports.usage import MAX_EXPORT_GROUPS
from graph.inputs.filters import UsageFilter, to_log_filter
from models.member import Role
from models.organization import Organization
from resolvers.scope import LogFilter
from resolvers.time_slices import Granularity
from resolvers.usage_dimensions import UsageDimension
from tests.factories import make_key, make_member, make_org, make_record, make_token, store
from web.export_filter import usage_filter
from web.export_params import (
    FILTER_PARAMETERS,
    TREND_PARAMETERS,
    ExportParams,
    predicted_export_cost,
)

UTC_ORG = Organization(timezone="UTC", billing_anchor_day=1)


def _filter(start: str, end: str, timezone: str | None = None) -> LogFilter:
    usage = UsageFilter(
        from_=datetime.fromisoformat(start), to=datetime.fromisoformat(end), timezone=timezone
    )
    return to_log_filter(usage, UTC_ORG)


def test_an_hourly_trend_over_two_days_split_three_ways() -> None:
    two_days = _filter("2024-05-01T00:00:00.000000+00:00", "2024-05-03T00:00:00.000000+00:00")

    cost = predicted_trend_export_cost(two_days, Granularity.HOUR, UsageDimension.MODEL, 3)

    # 48 hours x 3 series; 4 bucket times (local and UTC), model and the 30 summary figures
    assert cost == ExportCost(rows=144, columns=35)
    assert cost.points == 10 + 144 * 35


def test_an_unsplit_trend_has_one_row_per_local_bucket() -> None:
    # Berlin's spring-forward night: 4 local days, as the API's trend
    berlin = _filter(
        "2024-03-29T00:00:00.000000+01:00", "2024-04-02T00:00:00.000000+02:00", "Europe/Berlin"
    )

    cost = predicted_trend_export_cost(berlin, Granularity.DAY, None, 20)

    assert cost == ExportCost(rows=4, columns=34)


def test_a_trend_the_export_will_refuse_predicts_no_rows() -> None:
    years = _filter("2020-01-01T00:00:00.000000+00:00", "2024-01-01T00:00:00.000000+00:00")
    assert predicted_trend_export_cost(years, Granularity.HOUR, None, 20).rows == 0
    week = _filter("2024-05-01T00:00:00.000000+00:00", "2024-05-08T00:00:00.000000+00:00")
    assert predicted_trend_export_cost(week, Granularity.DAY, UsageDimension.MODEL, 0).rows == 0


def test_a_breakdown_is_its_limit_or_at_most_the_export_group_maximum() -> None:
    by_key_and_member = (UsageDimension.API_KEY, UsageDimension.MEMBER)
    # apiKeyId, apiKeyLabel, memberId, memberName and the 30 summary figures
    assert predicted_breakdown_export_cost(by_key_and_member, 5) == ExportCost(5, 34)
    assert predicted_breakdown_export_cost((UsageDimension.MODEL,), None) == ExportCost(
        MAX_EXPORT_GROUPS, 31
    )


def test_the_parameters_predict_the_export_the_endpoint_will_build() -> None:
    pairs = [
        ("from", "2024-05-01T00:00:00Z"),
        ("to", "2024-05-03T00:00:00Z"),
        ("granularity", "hour"),
        ("splitBy", "ENDPOINT"),
        ("limit", "3"),
    ]
    params = ExportParams(pairs, TREND_PARAMETERS)
    log_filter = to_log_filter(usage_filter(params), UTC_ORG)

    assert predicted_export_cost("trend", params, log_filter) == ExportCost(144, 35)
    breakdown = ExportParams([("by", "MODEL"), ("limit", "7")], FILTER_PARAMETERS | {"by", "limit"})
    assert predicted_export_cost("breakdown", breakdown, log_filter) == ExportCost(7, 31)


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


async def _get(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


async def test_the_sixty_day_hourly_export_split_by_endpoint_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await _get(
        client,
        await _owner_token(),
        "/export/usage/trend.csv",
        **{"from": "2024-03-01T00:00:00Z", "to": "2024-04-30T00:00:00Z"},
        granularity="HOUR",
        splitBy="ENDPOINT",
        limit="100",
    )

    assert response.status_code == 400
    # 1440 hours x 100 series x (4 times + endpoint + 30 figures)
    cost = 10 + 1440 * 100 * 35
    assert response.json() == {
        "error": {
            "code": "QUERY_TOO_COMPLEX",
            "message": (
                f"The export would cost {cost} points; at most 50000 are allowed per export. "
                "Ask for a shorter period, a coarser granularity or fewer series (limit)."
            ),
            "cost": cost,
            "limit": 50_000,
        }
    }


async def test_an_export_within_the_limit_has_the_predicted_rows(
    client: httpx.AsyncClient,
) -> None:
    response = await _get(
        client,
        await _owner_token(),
        "/export/usage/trend.csv",
        **{"from": "2024-05-01T00:00:00Z", "to": "2024-05-03T00:00:00Z"},
        granularity="HOUR",
    )

    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert len(rows) == 48


async def test_a_breakdown_export_of_more_groups_than_the_maximum_is_refused(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    await store(
        *(
            make_record(org, key, owner, at + timedelta(seconds=n), endpoint=f"/v1/e{n}")
            for n in range(MAX_EXPORT_GROUPS + 1)
        )
    )

    response = await _get(
        client,
        await make_token(owner),
        "/export/usage/breakdown.csv",
        **{"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
        by="ENDPOINT",
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "BAD_USER_INPUT",
            "message": (
                "limit: the breakdown has 1001 groups, more than the 1000 an export returns "
                "at once; give limit (1-100) or a narrower filter"
            ),
        }
    }
