"""Enums of the usage analytics API (mapped from the read side's enums)."""

from __future__ import annotations

import strawberry

from resolvers.current_spend import BudgetStatus
from resolvers.time_slices import Granularity
from resolvers.usage import BreakdownField, SortDirection
from resolvers.usage_dimensions import UsageDimension

UsageDimensionEnum = strawberry.enum(
    UsageDimension,
    name="UsageDimension",
    description=(
        "What usage can be grouped by: MODEL (alias), PROVIDER_MODEL, API_KEY, MEMBER, "
        "STATUS_CODE, ENDPOINT, TAG (the record's tags: a request with two tags counts in "
        "both tag groups, so tag groups do not add up to the total; untagged requests are "
        'tag ""), END_USER (the application\'s end-user id; none is ""). Not for latency '
        "groups: TAG."
    ),
)
TrendGranularityEnum = strawberry.enum(
    Granularity,
    name="TrendGranularity",
    description=(
        "Local calendar buckets: HOUR, DAY, WEEK (Monday to Monday), MONTH. A DST day has "
        "23 or 25 HOUR buckets."
    ),
)
UsageOrderFieldEnum = strawberry.enum(
    BreakdownField,
    name="UsageOrderField",
    description=(
        "COST (customer cost), REQUESTS, TOKENS (input + output), AVERAGE_LATENCY, "
        "ERROR_RATE (non-2xx share)."
    ),
)
SortDirectionEnum = strawberry.enum(SortDirection, name="SortDirection")
BudgetStatusEnum = strawberry.enum(
    BudgetStatus,
    name="BudgetStatus",
    description="GREEN under 75% of the budget, YELLOW 75% to 90% inclusive, RED over 90%.",
)
