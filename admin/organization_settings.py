"""Changing the organization's settings, and its markup and fee from an instant on.

Who may change what (docs/readme/admin.md): Admins and Owners change the name and the
low-balance threshold; only Owners change what requests cost (markup, fixed fee), when
billing periods start (billing anchor day, timezone) and whether request bodies are kept.

A markup or fee change is a new pricing version (models/organization_pricing.py) starting at
`effective_from`, which is at least `MIN_PRICING_LEAD` ahead: ingest accepts records up to
FUTURE_TOLERANCE ahead of its clock and reads its clock before the terms, so no batch already
under way when the change commits holds a record the new version should have priced. Every
request therefore keeps the price of the terms of its own instant, for good, and `reprice`
uses the same terms for logs it prices later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from admin.billing_contract import recount_current_period
from audit.trail import Actor, record_change
from ingestion.directory import load_org_terms
from ingestion.validation import FUTURE_TOLERANCE
from models.member import Role
from models.organization import Organization
from models.organization_pricing import OrganizationPricing
from pricing.cost import basis_points_to_percent
from pricing.money import nanos_to_usd
from pricing.terms import PricingTerms, TermsTimeline
from resolvers.errors import BadInputError, ForbiddenError
from resolvers.periods import parse_timezone
from resolvers.scope import Scope
from resolvers.unchanged import UNCHANGED, Unchanged
from spend.state import lock_organization
from spend.wallet import apply_low_balance_threshold

__all__ = [
    "MAX_FIXED_FEE_NANOS",
    "MAX_MARKUP_BPS",
    "MIN_PRICING_LEAD",
    "OWNER_ONLY_SETTINGS",
    "SettingsChanges",
    "organization_pricing",
    "update_organization_settings",
]

# FUTURE_TOLERANCE, plus a minute for the change's own commit to land.
MIN_PRICING_LEAD = FUTURE_TOLERANCE + timedelta(minutes=1)
MAX_MARKUP_BPS = 100_000  # 1000%
MAX_FIXED_FEE_NANOS = 100 * 1_000_000_000  # $100 per request
_NAME_LENGTH = 200
# Settings only an Owner may change, by their API names.
OWNER_ONLY_SETTINGS = (
    "markupPercent",
    "fixedFee",
    "pricingEffectiveFrom",
    "billingAnchorDay",
    "timezone",
    "logBodies",
)


@dataclass(frozen=True, slots=True)
class SettingsChanges:
    """What to change; UNCHANGED fields keep their value. Money in nano-USD, markup in basis
    points; `pricing_effective_from` None means the earliest allowed instant."""

    name: str | Unchanged = UNCHANGED
    timezone: str | Unchanged = UNCHANGED
    billing_anchor_day: int | Unchanged = UNCHANGED
    log_bodies: bool | Unchanged = UNCHANGED
    low_balance_threshold_nanos: int | Unchanged = UNCHANGED
    markup_bps: int | Unchanged = UNCHANGED
    fixed_fee_nanos: int | Unchanged = UNCHANGED
    pricing_effective_from: datetime | Unchanged | None = UNCHANGED

    def owner_only_fields(self) -> list[str]:
        """The Owner-only settings this change touches, by API name."""
        values = {
            "markupPercent": self.markup_bps,
            "fixedFee": self.fixed_fee_nanos,
            "pricingEffectiveFrom": self.pricing_effective_from,
            "billingAnchorDay": self.billing_anchor_day,
            "timezone": self.timezone,
            "logBodies": self.log_bodies,
        }
        return [name for name in OWNER_ONLY_SETTINGS if values[name] is not UNCHANGED]


async def organization_pricing(
    organization_id: int, conn: BaseDBAsyncClient | None = None
) -> TermsTimeline:
    """The organization's markup and fee over time: original terms, then every version."""
    return (await load_org_terms(organization_id, conn)).pricing


# Settings that decide where billing periods start (resolvers/billing_policy.py).
_PERIOD_FIELDS = ("timezone", "billing_anchor_day")


async def update_organization_settings(
    organization_id: int, actor: Actor, actor_role: Role, changes: SettingsChanges
) -> Organization:
    """Apply `changes` and record them ("organization.settings", and "organization.pricing"
    for a markup or fee version) in one transaction. Returns the organization; ForbiddenError
    naming Owner-only fields for an Admin, BadInputError naming the field otherwise."""
    owner_only = changes.owner_only_fields()
    if owner_only and actor_role is not Role.OWNER:
        raise ForbiddenError(f"Only Owners can change {', '.join(owner_only)}.")
    values = _checked_settings(changes)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        org = await Organization.filter(id=organization_id).using_db(conn).get()
        before = {name: getattr(org, name) for name in values}
        columns = {k: v for k, v in values.items() if k != "low_balance_threshold_nanos"}
        if columns:
            await Organization.filter(id=organization_id).using_db(conn).update(**columns)
        threshold = values.get("low_balance_threshold_nanos")
        if isinstance(threshold, int):
            await apply_low_balance_threshold(conn, organization_id, threshold)
        await record_change(
            organization_id,
            actor,
            "organization.settings",
            "Organization",
            organization_id,
            {_API_NAMES[name]: _shown(name, before[name], values[name]) for name in values},
            connection=conn,
        )
        if changes.markup_bps is not UNCHANGED or changes.fixed_fee_nanos is not UNCHANGED:
            await _add_pricing_version(conn, organization_id, actor, changes, now)
        if any(before[name] != values[name] for name in _PERIOD_FIELDS if name in values):
            # The billing period moved: key limits and the budget must read its spend.
            await recount_current_period(conn, organization_id, now)
    return await Organization.get(id=organization_id)


_API_NAMES = {
    "name": "name",
    "timezone": "timezone",
    "billing_anchor_day": "billingAnchorDay",
    "log_bodies": "logBodies",
    "low_balance_threshold_nanos": "lowBalanceThreshold",
}


def _shown(name: str, old: object, new: object) -> tuple[object, object]:
    """(old, new) as the API shows them: thresholds in USD."""
    if name == "low_balance_threshold_nanos":
        assert isinstance(old, int) and isinstance(new, int)
        return nanos_to_usd(old), nanos_to_usd(new)
    return old, new


def _checked_settings(changes: SettingsChanges) -> dict[str, object]:
    """The organization columns to set, validated; BadInputError names the field."""
    values: dict[str, object] = {}
    if changes.name is not UNCHANGED:
        name = changes.name.strip()
        if not name or len(name) > _NAME_LENGTH:
            raise BadInputError(f"name: 1 to {_NAME_LENGTH} characters")
        values["name"] = name
    if changes.timezone is not UNCHANGED:
        try:
            values["timezone"] = parse_timezone(changes.timezone).key
        except ValueError as exc:
            raise BadInputError(f"timezone: {exc}; use an IANA name like Europe/Paris") from None
    if changes.billing_anchor_day is not UNCHANGED:
        # 29-31 start on a short month's last day (resolvers/periods.anchored_date).
        if not 1 <= changes.billing_anchor_day <= 31:
            raise BadInputError("billingAnchorDay: a day of the month from 1 to 31")
        values["billing_anchor_day"] = changes.billing_anchor_day
    if changes.log_bodies is not UNCHANGED:
        values["log_bodies"] = changes.log_bodies
    if changes.low_balance_threshold_nanos is not UNCHANGED:
        if changes.low_balance_threshold_nanos < 0:
            raise BadInputError("lowBalanceThreshold: cannot be negative")
        values["low_balance_threshold_nanos"] = changes.low_balance_threshold_nanos
    if changes.markup_bps is not UNCHANGED and not 0 <= changes.markup_bps <= MAX_MARKUP_BPS:
        raise BadInputError(
            f"markupPercent: from 0 to {basis_points_to_percent(MAX_MARKUP_BPS)} percent"
        )
    if changes.fixed_fee_nanos is not UNCHANGED and not (
        0 <= changes.fixed_fee_nanos <= MAX_FIXED_FEE_NANOS
    ):
        raise BadInputError(f"fixedFee: from 0 to {nanos_to_usd(MAX_FIXED_FEE_NANOS)} USD")
    if changes.pricing_effective_from is not UNCHANGED and (
        changes.markup_bps is UNCHANGED and changes.fixed_fee_nanos is UNCHANGED
    ):
        raise BadInputError("pricingEffectiveFrom: only with a new markupPercent or fixedFee")
    return values


async def _add_pricing_version(
    conn: BaseDBAsyncClient,
    organization_id: int,
    actor: Actor,
    changes: SettingsChanges,
    now: datetime,
) -> None:
    """Store the new markup/fee from the chosen instant on; the other term is the one in
    effect at that instant. A version already scheduled at that very instant (still in the
    future, so it has priced nothing) is replaced."""
    earliest = now + MIN_PRICING_LEAD
    start = changes.pricing_effective_from
    if start is None or start is UNCHANGED:
        # The earliest allowed instant, on a whole minute so it reads well.
        start = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    elif start.tzinfo is None:
        raise BadInputError("pricingEffectiveFrom: needs a UTC offset")
    elif start < earliest:
        raise BadInputError(
            f"pricingEffectiveFrom: at the earliest {earliest.isoformat(timespec='seconds')} "
            f"({int(MIN_PRICING_LEAD.total_seconds() // 60)} minutes from now): requests "
            "already priced keep their price"
        )
    start = start.astimezone(UTC)
    timeline = await organization_pricing(organization_id, conn)
    in_effect = timeline.at(start)
    new = PricingTerms(
        in_effect.markup_bps if changes.markup_bps is UNCHANGED else changes.markup_bps,
        in_effect.fixed_fee_nanos
        if changes.fixed_fee_nanos is UNCHANGED
        else changes.fixed_fee_nanos,
        start,
    )
    replaced = (
        await Scope.for_organization(organization_id)
        .filter(OrganizationPricing)
        .filter(effective_from=start)
        .using_db(conn)
        .delete()
    )
    await OrganizationPricing.create(
        organization_id=organization_id,
        effective_from=start,
        markup_bps=new.markup_bps,
        fixed_fee_nanos=new.fixed_fee_nanos,
        using_db=conn,
    )
    await record_change(
        organization_id,
        actor,
        "organization.pricing",
        "Organization",
        organization_id,
        {
            "effectiveFrom": (start if replaced else None, start),
            "markupPercent": (
                basis_points_to_percent(in_effect.markup_bps),
                basis_points_to_percent(new.markup_bps),
            ),
            "fixedFee": (
                nanos_to_usd(in_effect.fixed_fee_nanos),
                nanos_to_usd(new.fixed_fee_nanos),
            ),
        },
        connection=conn,
    )
