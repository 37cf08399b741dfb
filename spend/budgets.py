"""Changing spend settings: the organization budget, and a key's limit, status and models.

Each change runs in one transaction that first locks the organization row (the order ingest
takes its locks in), then applies spend control to the new settings at once: a limit lowered
under the key's spend blocks it and fires its thresholds; a limit raised above it (or
cleared) lifts a limit block. Keys are looked up within the caller's organization only, so
another tenant's key id is NOT_FOUND exactly like a missing one. Each change is recorded in
the audit trail (money as USD strings) in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.api_key import ApiKey, KeyStatus
from models.organization import Organization
from pricing.money import format_optional_usd, format_usd
from resolvers.billing_policy import billing_policy
from resolvers.errors import BadInputError, NotFoundError
from resolvers.key_access import key_period_spend
from resolvers.model_aliases import MAX_ALLOWED_MODELS, clean_model_aliases
from resolvers.scope import Scope
from spend.control import enforce_budget, enforce_key_limit
from spend.state import lock_organization

__all__ = [
    "MAX_ALLOWED_MODELS",
    "apply_api_key_limit",
    "check_key_limit",
    "find_key",
    "set_api_key_allowed_models",
    "set_api_key_status",
    "set_monthly_budget",
]

_REASON_LENGTH = 200


async def set_monthly_budget(
    organization_id: int, budget_nanos: int | None, *, actor: Actor
) -> Organization:
    """Set (> 0 nano-USD) or clear (None) the monthly budget; fires the budget thresholds the
    current period has already reached. Returns the updated organization."""
    if budget_nanos is not None and budget_nanos <= 0:
        raise BadInputError("amount: a budget must be greater than 0 (null clears it)")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        before = await Organization.filter(id=organization_id).using_db(conn).get()
        await (
            Organization.filter(id=organization_id)
            .using_db(conn)
            .update(monthly_budget_nanos=budget_nanos)
        )
        await record_change(
            organization_id,
            actor,
            "organization.budget",
            "Organization",
            organization_id,
            {
                "monthlyBudget": (
                    format_optional_usd(before.monthly_budget_nanos),
                    format_optional_usd(budget_nanos),
                )
            },
            connection=conn,
        )
        await enforce_budget(conn, organization_id)
    return await Organization.get(id=organization_id)


def check_key_limit(limit_nanos: int | None) -> None:
    """Raise BadInputError unless the limit is > 0 nano-USD or None (no limit)."""
    if limit_nanos is not None and limit_nanos <= 0:
        raise BadInputError("monthlyLimit: must be greater than 0 (null clears it)")


async def apply_api_key_limit(
    conn: BaseDBAsyncClient, organization_id: int, api_key_id: int, limit_nanos: int | None
) -> None:
    """Set (> 0 nano-USD) or clear (None) the key's monthly limit and apply it to this period's
    spend at once, in the caller's transaction, which holds the organization's lock. Whether
    the change needs an Owner's approval is decided before (admin/limit_requests.py)."""
    await (
        Scope.for_organization(organization_id)
        .filter(ApiKey)
        .filter(id=api_key_id)
        .using_db(conn)
        .update(monthly_limit_nanos=limit_nanos)
    )
    await enforce_key_limit(conn, organization_id, api_key_id)


async def set_api_key_status(
    organization_id: int, api_key_id: int, status: KeyStatus, reason: str | None, *, actor: Actor
) -> ApiKey:
    """Block, revoke or reactivate a key by hand. Revocation is final; reactivating a key at
    or over its monthly limit is refused (raise or clear the limit instead). A manual block
    lasts until someone lifts it. Returns the updated key."""
    if reason is not None and len(reason) > _REASON_LENGTH:
        raise BadInputError(f"reason: at most {_REASON_LENGTH} characters")
    if status is KeyStatus.UNSYNCED:
        raise BadInputError("status: UNSYNCED marks keys known only from usage; it is not set")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        key = await find_key(conn, organization_id, api_key_id)
        if key.status is KeyStatus.REVOKED and status is not KeyStatus.REVOKED:
            raise BadInputError("status: a revoked key cannot be reactivated or blocked")
        if status is KeyStatus.ACTIVE:
            await _require_under_limit(organization_id, key)
            stored_reason = None
        else:
            stored_reason = reason or (
                "blocked by an administrator" if status is KeyStatus.BLOCKED else "revoked"
            )
        await (
            Scope.for_organization(organization_id)
            .filter(ApiKey)
            .filter(id=api_key_id)
            .using_db(conn)
            .update(status=status, status_reason=stored_reason, limit_blocked_period_start=None)
        )
        await record_change(
            organization_id,
            actor,
            "apiKey.status",
            "ApiKey",
            api_key_id,
            {
                "status": (KeyStatus(key.status), status),
                "statusReason": (key.status_reason, stored_reason),
            },
            connection=conn,
        )
    return await Scope.for_organization(organization_id).filter(ApiKey).get(id=api_key_id)


async def set_api_key_allowed_models(
    organization_id: int, api_key_id: int, models: list[str] | None, *, actor: Actor
) -> ApiKey:
    """Restrict the key to these model aliases (None: every model; an empty list: none).
    Names are trimmed and de-duplicated in order. Returns the updated key."""
    cleaned = None if models is None else clean_model_aliases(models)
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        key = await find_key(conn, organization_id, api_key_id)
        await (
            Scope.for_organization(organization_id)
            .filter(ApiKey)
            .filter(id=api_key_id)
            .using_db(conn)
            .update(allowed_models=cleaned)
        )
        await record_change(
            organization_id,
            actor,
            "apiKey.allowedModels",
            "ApiKey",
            api_key_id,
            {"allowedModels": (key.allowed_models, cleaned)},
            connection=conn,
        )
    return await Scope.for_organization(organization_id).filter(ApiKey).get(id=api_key_id)


async def find_key(conn: BaseDBAsyncClient, organization_id: int, api_key_id: int) -> ApiKey:
    """The organization's key `api_key_id`; NotFoundError for a missing or another tenant's."""
    key = (
        await Scope.for_organization(organization_id)
        .filter(ApiKey)
        .filter(id=api_key_id)
        .using_db(conn)
        .first()
    )
    if key is None:
        raise NotFoundError("apiKeyId: no such API key")
    return key


async def _require_under_limit(organization_id: int, key: ApiKey) -> None:
    if key.monthly_limit_nanos is None:
        return
    org = await Organization.get(id=organization_id)
    period = billing_policy(org).period(datetime.now(UTC))
    spend = await key_period_spend(organization_id, key.id, period.start)
    if spend >= key.monthly_limit_nanos:
        raise BadInputError(
            f"status: the key has spent ${format_usd(spend)} of its "
            f"${format_usd(key.monthly_limit_nanos)} monthly limit this period; "
            "raise or clear the limit to reactivate it"
        )
