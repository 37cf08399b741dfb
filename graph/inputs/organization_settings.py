"""UpdateOrganizationSettingsInput: the settings to change, each left out to keep it; GraphQL
values to `SettingsChanges` (nano-USD, basis points) or BAD_USER_INPUT naming the field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import strawberry

from admin.organization_settings import SettingsChanges
from graph.errors import BadUserInputError
from graph.inputs.amounts import amount_nanos
from pricing.cost import percent_to_basis_points
from resolvers.unchanged import UNCHANGED, Unchanged

_T = TypeVar("_T")


@strawberry.input(
    name="UpdateOrganizationSettingsInput",
    description=(
        "Fields left out keep their value. Admins and Owners: name, lowBalanceThreshold. "
        "Owners only: markupPercent, fixedFee, pricingEffectiveFrom, billingAnchorDay, "
        "timezone, logBodies."
    ),
)
class UpdateOrganizationSettingsInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The organization's new display name."
    )
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA zone, e.g. Europe/Paris."
    )
    markup_percent: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Markup on provider cost, percent (0 to 1000, 2 decimals at most).",
    )
    fixed_fee: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="USD added to every successful request (0 to 100, 9 decimals at most).",
    )
    pricing_effective_from: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "When a new markupPercent/fixedFee starts pricing requests (by their timestamp): "
            "at least 6 minutes from now; left out or null, the first whole minute after that. "
            "Requests before it keep the terms of their own time."
        ),
    )
    billing_anchor_day: int | None = strawberry.field(
        default=strawberry.UNSET, description="Day of month billing periods start on, 1 to 28."
    )
    log_bodies: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Keep request/response bodies sent by the gateway."
    )
    low_balance_threshold: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="USD balance under which a LOW_BALANCE alert fires (>= 0).",
    )

    def to_changes(self) -> SettingsChanges:
        """The changes asked for, converted to storage units."""
        markup = _given(self.markup_percent, "markupPercent")
        fee = _given(self.fixed_fee, "fixedFee")
        threshold = _given(self.low_balance_threshold, "lowBalanceThreshold")
        return SettingsChanges(
            name=_given(self.name, "name"),
            timezone=_given(self.timezone, "timezone"),
            billing_anchor_day=_given(self.billing_anchor_day, "billingAnchorDay"),
            log_bodies=_given(self.log_bodies, "logBodies"),
            low_balance_threshold_nanos=(
                UNCHANGED
                if threshold is UNCHANGED
                else amount_nanos(threshold, "lowBalanceThreshold")
            ),
            markup_bps=UNCHANGED if markup is UNCHANGED else _basis_points(markup),
            fixed_fee_nanos=UNCHANGED if fee is UNCHANGED else amount_nanos(fee, "fixedFee"),
            pricing_effective_from=(
                UNCHANGED
                if self.pricing_effective_from is strawberry.UNSET
                else self.pricing_effective_from
            ),
        )


def _given(value: _T | None, field: str) -> _T | Unchanged:
    """The value, UNCHANGED when left out; null is refused (no setting here can be cleared)."""
    if value is strawberry.UNSET:
        return UNCHANGED
    if value is None:
        raise BadUserInputError(f"{field}: cannot be null; leave it out to keep the value")
    return value


def _basis_points(percent: Decimal) -> int:
    try:
        return percent_to_basis_points(percent)
    except ValueError as exc:
        raise BadUserInputError(f"markupPercent: {exc}") from None
