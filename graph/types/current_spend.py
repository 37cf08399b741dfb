"""CurrentSpend: this billing period's spend against the organization's monthly budget."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.scalars import BigInt, usd
from graph.types.billing_policy import BillingPeriodPolicyType
from graph.types.usage_enums import BudgetStatusEnum
from resolvers.current_spend import BudgetStatus
from resolvers.current_spend import CurrentSpend as CurrentSpendData


@strawberry.type(
    name="BillingPeriod",
    description=(
        "The current billing period [start, end): between two local midnights, as `policy` "
        "says (calendar month, anchor day or Enterprise contract)."
    ),
)
class BillingPeriod:
    start: datetime = strawberry.field(description="ISO 8601 with the organization's offset.")
    end: datetime = strawberry.field(
        description="The period's end (exclusive): a local midnight, with the timezone's offset."
    )
    timezone: str = strawberry.field(description="The organization's IANA zone.")
    policy: BillingPeriodPolicyType = strawberry.field(
        description="The policy that cut this period (from the organization's tier and contract)."
    )


@strawberry.type(
    name="CurrentSpend",
    description=(
        "Customer cost in the current billing period. Admins/Owners: the whole organization "
        "against its monthly budget. Members: their own spend only; budget, remaining, "
        "percentUsed and status are null for them."
    ),
)
class CurrentSpend:
    billing_period: BillingPeriod = strawberry.field(
        description="The current billing period: its bounds, timezone and policy."
    )
    spend: Decimal = strawberry.field(description="USD, customer cost (usage only).")
    requests: BigInt = strawberry.field(description="Requests so far in the billing period.")
    own_spend_only: bool = strawberry.field(
        description="True when the figures cover only the viewer's own requests (Members)."
    )
    budget: Decimal | None = strawberry.field(description="USD monthly budget; null if none.")
    remaining: Decimal | None = strawberry.field(
        description="USD budget - spend (negative when over); null without budget."
    )
    percent_used: Decimal | None = strawberry.field(
        description=(
            "spend / budget x 100, rounded half-even to 2 decimals; null without budget (or "
            "for a zero budget). `status` is decided on the exact value."
        )
    )
    status: BudgetStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="GREEN < 75%, YELLOW 75%-90% inclusive, RED > 90%; null without budget."
    )

    @classmethod
    def from_data(cls, data: CurrentSpendData, own_only: bool) -> CurrentSpend:
        remaining = data.remaining_nanos()
        status = data.status()
        return cls(
            billing_period=BillingPeriod(
                start=data.period.start.astimezone(data.timezone),
                end=data.period.end.astimezone(data.timezone),
                timezone=data.timezone.key,
                policy=BillingPeriodPolicyType.from_policy(data.policy),
            ),
            spend=usd(data.spend_nanos),
            requests=BigInt(data.totals.requests),
            own_spend_only=own_only,
            budget=None if data.budget_nanos is None else usd(data.budget_nanos),
            remaining=None if remaining is None else usd(remaining),
            percent_used=data.percent_used(),
            status=None if status is None else BudgetStatus(status),
        )
