"""Cost-governance settings an Owner sets: the limit approval threshold and what reaching the
budget does (alert only, or refuse in keyAccess). Each change is audited in its transaction."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.organization import BudgetEnforcement, Organization
from pricing.money import format_optional_usd
from resolvers.errors import BadInputError
from spend.state import lock_organization

__all__ = ["set_budget_enforcement", "set_limit_approval_threshold"]


async def set_limit_approval_threshold(
    actor: Actor, organization_id: int, threshold_nanos: int | None
) -> Organization:
    """Set (> 0 nano-USD) or clear (None: no approval needed) the threshold above which an
    Admin's key limit waits for an Owner. Requests already pending stay pending."""
    if threshold_nanos is not None and threshold_nanos <= 0:
        raise BadInputError("amount: a threshold must be greater than 0 (null clears it)")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        org = await Organization.filter(id=organization_id).using_db(conn).get()
        old = org.limit_approval_threshold_nanos
        await (
            Organization.filter(id=organization_id)
            .using_db(conn)
            .update(limit_approval_threshold_nanos=threshold_nanos)
        )
        await record_change(
            organization_id,
            actor,
            "organization.settings",
            "Organization",
            organization_id,
            {
                "limitApprovalThreshold": (
                    format_optional_usd(old),
                    format_optional_usd(threshold_nanos),
                )
            },
            connection=conn,
        )
    return await Organization.get(id=organization_id)


async def set_budget_enforcement(
    actor: Actor, organization_id: int, mode: BudgetEnforcement
) -> Organization:
    """Set what reaching the monthly budget does: ALERT_ONLY, or BLOCK (keyAccess refuses
    with 402 once the period's spend reaches the budget)."""
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        org = await Organization.filter(id=organization_id).using_db(conn).get()
        old = BudgetEnforcement(org.budget_enforcement)
        await Organization.filter(id=organization_id).using_db(conn).update(budget_enforcement=mode)
        await record_change(
            organization_id,
            actor,
            "organization.settings",
            "Organization",
            organization_id,
            {"budgetEnforcement": (old, mode)},
            connection=conn,
        )
    return await Organization.get(id=organization_id)
