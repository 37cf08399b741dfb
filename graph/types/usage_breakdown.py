"""Breakdown groups and their ordering input."""

from __future__ import annotations

import strawberry

from graph.types.cost_summary import CostSummary
from graph.types.usage_enums import SortDirectionEnum, UsageOrderFieldEnum
from graph.types.usage_group import DimensionValues, dimension_values
from resolvers.usage import BreakdownField, SortDirection
from resolvers.usage import UsageGroup as UsageGroupData


@strawberry.input(
    name="UsageOrder",
    description="Order of groups: by `field`, `direction` DESC by default; ties by value.",
)
class UsageOrder:
    field: UsageOrderFieldEnum = strawberry.field(description="The figure to sort by.")  # type: ignore[valid-type]
    direction: SortDirectionEnum = strawberry.field(  # type: ignore[valid-type]
        default=SortDirection.DESC, description="ASC (smallest first) or DESC (largest first)."
    )

    def parsed(self) -> tuple[BreakdownField, SortDirection]:
        return BreakdownField(self.field), SortDirection(self.direction)


@strawberry.type(name="UsageGroup", description="One group of a breakdown and its totals.")
class UsageGroupType(DimensionValues):
    totals: CostSummary = strawberry.field(description="The series' figures over the whole range.")

    @classmethod
    def from_group(cls, group: UsageGroupData) -> UsageGroupType:
        return cls(
            totals=CostSummary.from_measures(group.totals),
            **dimension_values(group.dimensions, group.key),
        )
