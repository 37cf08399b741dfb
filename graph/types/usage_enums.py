"""Enums of the usage analytics API (mapped from the read side's enums)."""

from __future__ import annotations

import strawberry

from graph.types.enum_values import describe_values
from resolvers.current_spend import BudgetStatus
from resolvers.time_slices import Granularity
from resolvers.usage import BreakdownField, SortDirection
from resolvers.usage_dimensions import UsageDimension

UsageDimensionEnum = strawberry.enum(
    UsageDimension,
    name="UsageDimension",
    description=(
        "What usage can be grouped by: MODEL (alias), PROVIDER_MODEL, API_KEY, MEMBER, "
        "STATUS_CODE, ENDPOINT, PROVIDER (who served the request: openai, anthropic, google, "
        "..., or unknown)."
        "STATUS_CODE, ENDPOINT, TAG (the record's tags: a request with two tags counts in "
        "both tag groups, so tag groups do not add up to the total; untagged requests are "
        'tag ""), END_USER (the application\'s end-user id; none is ""). Not for latency '
        "groups: TAG."
    ),
)

describe_values(
    UsageDimensionEnum,
    {
        "MODEL": "The model alias the request asked for.",
        "PROVIDER_MODEL": "The provider's model that served it.",
        "API_KEY": "The API key used (Admins and Owners).",
        "MEMBER": "The member who made it (Admins and Owners).",
        "STATUS_CODE": "The HTTP status answered.",
        "ENDPOINT": "The gateway path called.",
        "PROVIDER": 'Who served the request (openai, anthropic, ...; "unknown" when nobody said).',
        "TAG": "Each of the request's tags: a request counts in every one of its tags.",
        "END_USER": 'The application\'s end user ("" when the request named none).',
    },
)
TrendGranularityEnum = strawberry.enum(
    Granularity,
    name="TrendGranularity",
    description=(
        "Local calendar buckets: HOUR, DAY, WEEK (Monday to Monday), MONTH. A DST day has "
        "23 or 25 HOUR buckets."
    ),
)

describe_values(
    TrendGranularityEnum,
    {
        "HOUR": "One bucket per local hour (23 or 25 on DST days).",
        "DAY": "One bucket per local day, midnight to midnight.",
        "WEEK": "One bucket per week, from Monday's local midnight.",
        "MONTH": "One bucket per calendar month, from the first's local midnight.",
    },
)
UsageOrderFieldEnum = strawberry.enum(
    BreakdownField,
    name="UsageOrderField",
    description=(
        "COST (customer cost), REQUESTS, TOKENS (input + output), AVERAGE_LATENCY, "
        "ERROR_RATE (non-2xx share)."
    ),
)

describe_values(
    UsageOrderFieldEnum,
    {
        "COST": "Customer cost in USD.",
        "REQUESTS": "Number of requests.",
        "TOKENS": "Total tokens.",
        "AVERAGE_LATENCY": "Average latency in milliseconds.",
        "ERROR_RATE": "Share of requests not answered 2xx.",
    },
)
SortDirectionEnum = strawberry.enum(
    SortDirection, name="SortDirection", description="Sort order: ASC or DESC."
)

describe_values(
    SortDirectionEnum,
    {
        "ASC": "Smallest first.",
        "DESC": "Largest first.",
    },
)
BudgetStatusEnum = strawberry.enum(
    BudgetStatus,
    name="BudgetStatus",
    description="GREEN under 75% of the budget, YELLOW 75% to 90% inclusive, RED over 90%.",
)

describe_values(
    BudgetStatusEnum,
    {
        "GREEN": "Under 75% of the budget.",
        "YELLOW": "75% to 90% of the budget, inclusive.",
        "RED": "Over 90% of the budget.",
    },
)
