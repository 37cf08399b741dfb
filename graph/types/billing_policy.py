"""BillingPeriodPolicy: what an organization's billing period is (by tier, anchor day or
Enterprise contract)."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.types.enum_values import describe_values
from resolvers.billing_policy import BillingPeriodKind, BillingPolicy

BillingPeriodKindEnum = strawberry.enum(
    BillingPeriodKind,
    name="BillingPeriodKind",
    description=(
        "CALENDAR_MONTH (FREE), ANCHOR_DAY (TEAM, BUSINESS; ENTERPRISE without a contract), "
        "CONTRACT (ENTERPRISE with a contract period)."
    ),
)

describe_values(
    BillingPeriodKindEnum,
    {
        "CALENDAR_MONTH": "From the first of the month to the next, local midnights.",
        "ANCHOR_DAY": (
            "From the anchor day of the month to the next (the last day in short months)."
        ),
        "CONTRACT": "Contract periods of a number of months from the contract's start.",
    },
)


@strawberry.type(
    name="BillingPeriodPolicy",
    description=(
        "How billing periods run: `months` long, from local midnight (the organization's "
        "timezone) of `anchorDay` (the month's last day when it is shorter). Budgets, key "
        "limits and currentSpend all count per such period."
    ),
)
class BillingPeriodPolicyType:
    kind: BillingPeriodKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="CALENDAR_MONTH, ANCHOR_DAY or CONTRACT: how billing periods are cut."
    )
    months: int = strawberry.field(description="Period length in months (1, 3, 12...).")
    anchor_day: int = strawberry.field(description="Day of month periods start on (1-31).")
    contract_start: date | None = strawberry.field(
        description="CONTRACT: the local date one contract period starts on; null otherwise."
    )
    timezone: str = strawberry.field(description="The organization's IANA zone.")

    @classmethod
    def from_policy(cls, policy: BillingPolicy) -> BillingPeriodPolicyType:
        return cls(
            kind=policy.kind,
            months=policy.months,
            anchor_day=policy.anchor_day,
            contract_start=policy.contract_start,
            timezone=policy.timezone.key,
        )
