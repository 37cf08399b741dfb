"""Questions that scan raw request logs (a threshold in the usage filter, a log search)
cost RAW_SCAN_WEIGHT instead of an aggregate's weight, requested and actual alike."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from graph.limits import (
    AGGREGATE_WEIGHT,
    RAW_SCAN_WEIGHT,
    actual_cost,
    requested_cost,
    select_operation,
)
from graph.schema import schema

PRODUCT = schema._schema


def _requested(query: str, **variables: Any) -> int:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    return requested_cost(PRODUCT, document, operation, variables).points


def _actual(query: str, data: dict[str, Any], **variables: Any) -> int:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    return actual_cost(PRODUCT, document, operation, data, variables).points


TOTALS = "query Q($f: UsageFilter) { organization { usage(filter: $f) { totals { requests } } } }"
LOGS = (
    "query Q($f: UsageFilter, $s: String) { organization { "
    "requestLogs(filter: $f, search: $s, first: 1) { edges { node { id } } } } }"
)


@pytest.mark.parametrize(
    "threshold",
    [{"minLatencyMs": 0}, {"maxLatencyMs": 10}, {"minCustomerCost": "1"}, {"minTotalTokens": 5}],
)
def test_usage_with_a_threshold_costs_the_raw_scan_weight(threshold: dict[str, Any]) -> None:
    plain = _requested(TOTALS, f={"period": "LAST_7_DAYS"})
    scanned = _requested(TOTALS, f={"period": "LAST_7_DAYS", **threshold})

    assert scanned - plain == RAW_SCAN_WEIGHT - AGGREGATE_WEIGHT


def test_provider_models_alone_stay_on_the_rollups() -> None:
    assert _requested(TOTALS, f={"providerModels": ["gpt-4-0613"]}) == _requested(TOTALS)


@pytest.mark.parametrize(
    ("variables", "extra"),
    [
        ({"s": "timeout"}, RAW_SCAN_WEIGHT - 1),
        ({"s": "  "}, 0),
        ({"f": {"minLatencyMs": 5000}}, RAW_SCAN_WEIGHT - 1),
        ({"f": {"models": ["gpt-4"]}}, 0),
    ],
)
def test_a_searched_or_thresholded_log_page_costs_the_raw_scan_weight(
    variables: dict[str, Any], extra: int
) -> None:
    assert _requested(LOGS, **variables) - _requested(LOGS) == extra


def test_the_actual_cost_charges_the_raw_scan_too() -> None:
    data = {"organization": {"usage": {"totals": {"requests": 3}}}}

    plain = _actual(TOTALS, data, f={})
    scanned = _actual(TOTALS, data, f={"minTotalTokens": 1})

    assert scanned - plain == RAW_SCAN_WEIGHT - AGGREGATE_WEIGHT
