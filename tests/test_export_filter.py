"""The exports take every UsageFilter field (and request logs `search`) exactly as the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, build_schema, get_named_type

from exports.cost import EXPORT_RAW_SCAN_WEIGHT
from graph.inputs.filters import to_log_filter
from graph.limits import RAW_SCAN_WEIGHT
from models.member import Role
from models.organization import Organization
from models.priced_record import PricedRecord
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from web.export_filter import FILTER_PARAMETERS, usage_filter
from web.export_params import BREAKDOWN_PARAMETERS, ExportParams, predicted_export_cost

NOW = datetime.now(UTC).replace(microsecond=0)
SCHEMA = build_schema((Path(__file__).resolve().parent.parent / "schema.graphql").read_text())

LOG_IDS = """
query Logs($filter: UsageFilter, $search: String) {
  organization { requestLogs(filter: $filter, search: $search, first: 100) {
    edges { node { requestId } }
  } }
}
"""
BY_MODEL = """
query ByModel($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    breakdown(by: [MODEL]) { model totals { requests totalTokens customerCost } }
  } }
}
"""


def _flattened(type_name: str, prefix: str = "") -> set[str]:
    """The input type's fields as export parameters (a nested input under its name)."""
    input_type = SCHEMA.get_type(type_name)
    assert isinstance(input_type, GraphQLInputObjectType)
    names: set[str] = set()
    for name, field in input_type.fields.items():
        parameter = prefix + name[:1].upper() + name[1:] if prefix else name
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLInputObjectType):
            names |= _flattened(inner.name, parameter)
        else:
            names.add(parameter)
    return names


def test_every_usage_filter_field_of_the_schema_is_an_export_parameter() -> None:
    assert _flattened("UsageFilter") == FILTER_PARAMETERS
    assert {"tagsAny", "tagsAll", "minCustomerCost", "providerModels"} <= FILTER_PARAMETERS


def test_parameters_become_the_usage_filter_the_api_would_receive() -> None:
    params = ExportParams(
        [
            ("minLatencyMs", "50"),
            ("maxLatencyMs", "900"),
            ("minCustomerCost", "0.25"),
            ("minTotalTokens", "10"),
            ("providerModels", "gpt-4-0613, claude-x"),
            ("tagsAll", "Chat"),
            ("endUsers", "u1"),
            ("onlyMine", "false"),
        ],
        FILTER_PARAMETERS,
    )
    built = usage_filter(params)

    org = Organization(id=1, timezone="Asia/Kolkata", slug="x", name="x")
    log_filter = to_log_filter(built, org)
    assert (log_filter.min_latency_ms, log_filter.max_latency_ms) == (50, 900)
    assert log_filter.min_customer_cost_nanos == 250_000_000
    assert log_filter.min_total_tokens == 10
    assert log_filter.provider_models == ("gpt-4-0613", "claude-x")
    assert (log_filter.tags_any, log_filter.tags_all) == (None, ("chat",))
    assert log_filter.end_users == ("u1",)


def test_a_threshold_prices_a_usage_export_as_a_raw_scan() -> None:
    org = Organization(id=1, timezone="UTC", slug="x", name="x")
    pairs = [("by", "MODEL"), ("limit", "7")]
    plain = ExportParams(pairs, BREAKDOWN_PARAMETERS)
    slow = ExportParams([*pairs, ("minLatencyMs", "5000")], BREAKDOWN_PARAMETERS)

    plain_cost = predicted_export_cost("breakdown", plain, to_log_filter(usage_filter(plain), org))
    slow_cost = predicted_export_cost("breakdown", slow, to_log_filter(usage_filter(slow), org))

    assert EXPORT_RAW_SCAN_WEIGHT == RAW_SCAN_WEIGHT
    # model + 30 summary figures, 7 rows
    assert plain_cost.points == 10 + 7 * 31
    assert slow_cost.points == 250 + 7 * 31


async def _team(db: object) -> tuple[str, list[PricedRecord]]:
    org = await make_org(timezone="Asia/Kathmandu", markup_bps=1000)
    admin = await make_member(org, Role.ADMIN)
    key = await make_key(org, admin)
    at = NOW - timedelta(hours=2)
    records = [
        make_record(org, key, admin, at, latency_ms=40, tags=("chat",), end_user="u1"),
        make_record(
            org,
            key,
            admin,
            at + timedelta(seconds=1),
            latency_ms=6000,
            provider_cost_nanos=900_000_001,
            tags=("chat", "acme"),
            end_user="u2",
            status_code=504,
            error_message="upstream Timeout after 6 s",
        ),
        make_record(
            org,
            key,
            admin,
            at + timedelta(seconds=2),
            latency_ms=700,
            model="claude-x",
            provider_model="claude-x-2024",
            input_tokens=5000,
            tags=("acme",),
        ),
        make_record(org, key, admin, at + timedelta(seconds=3), latency_ms=700, end_user="u1"),
    ]
    await store(*records)
    return await make_token(admin), records


async def _export(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> Any:
    return await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


# (export parameters, the same filter as GraphQL variables, indexes of the records matched)
CASES: list[tuple[dict[str, str], dict[str, Any], list[int]]] = [
    ({"minLatencyMs": "700"}, {"filter": {"minLatencyMs": 700}}, [1, 2, 3]),
    ({"maxLatencyMs": "700"}, {"filter": {"maxLatencyMs": 700}}, [0, 2, 3]),
    (
        {"minLatencyMs": "100", "maxLatencyMs": "700"},
        {"filter": {"minLatencyMs": 100, "maxLatencyMs": 700}},
        [2, 3],
    ),
    ({"minCustomerCost": "0.5"}, {"filter": {"minCustomerCost": "0.5"}}, [1]),
    ({"minTotalTokens": "1000"}, {"filter": {"minTotalTokens": 1000}}, [2]),
    ({"providerModels": "claude-x-2024"}, {"filter": {"providerModels": ["claude-x-2024"]}}, [2]),
    ({"tagsAll": "chat,ACME"}, {"filter": {"tags": {"all": ["chat", "acme"]}}}, [1]),
    (
        {"tagsAny": "acme", "endUsers": "u2"},
        {"filter": {"tags": {"any": ["acme"]}, "endUsers": ["u2"]}},
        [1],
    ),
    ({"search": "timeout"}, {"search": "timeout"}, [1]),
    (
        {"search": "claude", "minLatencyMs": "1"},
        {"search": "claude", "filter": {"minLatencyMs": 1}},
        [2],
    ),
    ({"search": "   "}, {"search": "   "}, [0, 1, 2, 3]),
]


@pytest.mark.parametrize(("params", "variables", "expected"), CASES)
async def test_the_log_export_matches_request_logs_for_each_filter(
    client: httpx.AsyncClient,
    db: object,
    params: dict[str, str],
    variables: dict[str, Any],
    expected: list[int],
) -> None:
    token, records = await _team(db)
    period = {"period": "LAST_24_HOURS"}
    variables = {**variables, "filter": {**period, **variables.get("filter", {})}}

    rows = _rows(await _export(client, token, "/export/request-logs.csv", **period, **params))
    api = await gql(client, token, LOG_IDS, **variables)

    assert api.errors is None, api.errors
    edges = api.data["organization"]["requestLogs"]["edges"]  # type: ignore[index]
    wanted = [str(records[i].request_id) for i in reversed(expected)]
    assert [row["requestId"] for row in rows] == wanted
    assert [edge["node"]["requestId"] for edge in edges] == wanted


async def test_the_usage_export_with_thresholds_equals_the_api_breakdown(
    client: httpx.AsyncClient, db: object
) -> None:
    token, _ = await _team(db)
    api_filter = {"period": "LAST_24_HOURS", "minLatencyMs": 700, "minCustomerCost": "0.1"}

    response = await _export(
        client,
        token,
        "/export/usage/breakdown.csv",
        period="LAST_24_HOURS",
        minLatencyMs="700",
        minCustomerCost="0.1",
        by="MODEL",
    )
    api = await gql(client, token, BY_MODEL, filter=api_filter)

    assert api.errors is None, api.errors
    groups = api.data["organization"]["usage"]["breakdown"]  # type: ignore[index]
    assert [
        (row["model"], int(row["requests"]), int(row["totalTokens"]), row["customerCost"])
        for row in _rows(response)
    ] == [
        (
            g["model"],
            g["totals"]["requests"],
            g["totals"]["totalTokens"],
            g["totals"]["customerCost"],
        )
        for g in groups
    ]
    assert [g["model"] for g in groups] == ["gpt-4", "claude-x"]
    assert [g["totals"]["requests"] for g in groups] == [2, 1]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (
            "/export/request-logs.csv",
            {"minLatencyMs": "fast"},
            "minLatencyMs: expected a whole number, got 'fast'",
        ),
        (
            "/export/request-logs.csv",
            {"minLatencyMs": "50", "maxLatencyMs": "10"},
            "filter.maxLatencyMs: 10 is below filter.minLatencyMs 50",
        ),
        ("/export/request-logs.csv", {"from": ""}, "from: '' is not an ISO 8601 date-time"),
        ("/export/request-logs.csv", {"period": " "}, "period: expected one of LAST_HOUR"),
        (
            "/export/request-logs.csv",
            {"minTotalTokens": "-1"},
            "filter.minTotalTokens: must be 0 or more, got -1",
        ),
        (
            "/export/usage/trend.csv",
            {"minCustomerCost": "NaN"},
            "minCustomerCost: expected a decimal number (e.g. 0.25), got 'NaN'",
        ),
        (
            "/export/usage/trend.csv",
            {"minCustomerCost": "0.0000000001"},
            "filter.minCustomerCost: 0.0000000001 has more than 9 decimal places",
        ),
        (
            "/export/request-logs.jsonl",
            {"search": "a\tb"},
            "search: may not contain control characters",
        ),
        (
            "/export/request-logs.jsonl",
            {"search": ["a", "b"]},
            "search: give it once, not 2 times",
        ),
        (
            "/export/usage/breakdown.csv",
            {"by": "MODEL", "tagsAll": "x" * 300},
            "filter.tags.all[0]",
        ),
        (
            "/export/usage/breakdown.csv",
            {"by": "MODEL", "search": "x"},
            "search: unknown parameter",
        ),
    ],
)
async def test_a_bad_filter_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient,
    db: object,
    path: str,
    params: dict[str, Any],
    message: str,
) -> None:
    token, _ = await _team(db)

    response = await _export(client, token, path, **params)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message), error["message"]
