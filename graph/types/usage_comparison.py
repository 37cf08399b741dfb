"""Comparison of a window's usage with the previous period, a week and a month earlier."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

import strawberry

from graph.types.cost_summary import CostSummary
from resolvers.usage_comparison import PeriodComparison as PeriodComparisonData
from resolvers.usage_comparison import UsageComparison as UsageComparisonData

_GROWTH = "(current - previous) / previous x 100, percent to 9 decimals; null when previous is 0"


@strawberry.type(
    name="PeriodComparison",
    description="This window against an earlier one. Times in the report's timezone.",
)
class PeriodComparison:
    from_: datetime = strawberry.field(name="from", description="This window's start.")
    to: datetime = strawberry.field(description="This window's end (the range, clipped at now).")
    previous_from: datetime = strawberry.field(
        description=(
            "Start of the period compared against (in the filter's timezone): the "
            "same length, just before."
        )
    )
    previous_to: datetime = strawberry.field(
        description=(
            "End of the period compared against (in the filter's timezone), "
            "exclusive: where the current one starts."
        )
    )
    current: CostSummary = strawberry.field(description="Figures of the current period.")
    previous: CostSummary = strawberry.field(description="Figures of the previous period.")
    requests_growth_percent: Decimal | None = strawberry.field(description=f"Requests: {_GROWTH}.")
    tokens_growth_percent: Decimal | None = strawberry.field(
        description=f"Total tokens: {_GROWTH}."
    )
    customer_cost_growth_percent: Decimal | None = strawberry.field(
        description=f"Customer cost: {_GROWTH}."
    )


class _PeriodFields(TypedDict):
    from_: datetime
    to: datetime
    previous_from: datetime
    previous_to: datetime
    current: CostSummary
    previous: CostSummary
    requests_growth_percent: Decimal | None
    tokens_growth_percent: Decimal | None
    customer_cost_growth_percent: Decimal | None


def _fields(comparison: PeriodComparisonData, tz: ZoneInfo) -> _PeriodFields:
    return _PeriodFields(
        from_=comparison.current_range.start.astimezone(tz),
        to=comparison.current_range.end.astimezone(tz),
        previous_from=comparison.previous_range.start.astimezone(tz),
        previous_to=comparison.previous_range.end.astimezone(tz),
        current=CostSummary.from_measures(comparison.current),
        previous=CostSummary.from_measures(comparison.previous),
        requests_growth_percent=comparison.requests_growth_percent(),
        tokens_growth_percent=comparison.tokens_growth_percent(),
        customer_cost_growth_percent=comparison.customer_cost_growth_percent(),
    )


@strawberry.type(
    name="UsageComparison",
    description=(
        "The report's range (clipped at now, so a billing period compares the period so far) "
        "against the previous period of the same length, plus week over week and month "
        "over month."
    ),
)
class UsageComparison(PeriodComparison):
    week_over_week: PeriodComparison = strawberry.field(
        description="Against the same window exactly 7 x 24 hours earlier."
    )
    month_over_month: PeriodComparison = strawberry.field(
        description=(
            "Against the same local clock readings one calendar month earlier (days past the "
            "end of the shorter month clamp to its last day)."
        )
    )

    @classmethod
    def from_data(cls, data: UsageComparisonData, tz: ZoneInfo) -> UsageComparison:
        return cls(
            week_over_week=PeriodComparison(**_fields(data.week_over_week, tz)),
            month_over_month=PeriodComparison(**_fields(data.month_over_month, tz)),
            **_fields(data.previous_period, tz),
        )
