"""May this key spend? The gateway's check before it forwards a request.

Answers in the usage page's own terms: 401 for an unknown, revoked or blocked key (a key at
or over its monthly limit is blocked), 403 for a model the key may not use, 402 when the
organization's budget blocks spending (BLOCK enforcement) or the wallet cannot pay. Checks run
in that order, so the answer names the problem the caller must fix first (a refill does not
help a revoked key, nor an organization over a budget it chose to enforce).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from models.api_key import ApiKey, KeyStatus
from models.database import Params, current_dialect, fetch_all
from models.organization import BudgetEnforcement, Organization
from pricing.money import format_usd
from resolvers.billing_policy import billing_policy
from resolvers.errors import BadInputError
from resolvers.periods import TimeRange
from resolvers.scope import Scope

__all__ = ["Denial", "KeyAccessDecision", "check_key_access", "key_period_spend"]

# The spend counter of the organization as a whole (models/spend.py).
ORGANIZATION_COUNTER = 0


class Denial(Enum):
    """Why a key may not spend, with the HTTP status the gateway should answer."""

    UNKNOWN_KEY = "UNKNOWN_KEY"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_BLOCKED = "KEY_BLOCKED"
    LIMIT_REACHED = "LIMIT_REACHED"
    MODEL_NOT_ALLOWED = "MODEL_NOT_ALLOWED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"

    @property
    def status_code(self) -> int:
        if self is Denial.MODEL_NOT_ALLOWED:
            return 403
        # The seed's spend refusal: "402 Payment Required".
        if self in (Denial.INSUFFICIENT_BALANCE, Denial.BUDGET_EXCEEDED):
            return 402
        return 401


@dataclass(frozen=True, slots=True)
class KeyAccessDecision:
    """The answer; money in nano-USD, `period` the current billing period (UTC)."""

    denial: Denial | None
    reason: str | None
    key: ApiKey | None = None
    spend_nanos: int = 0
    balance_nanos: int = 0
    period: TimeRange | None = None

    @property
    def allowed(self) -> bool:
        return self.denial is None

    @property
    def status_code(self) -> int | None:
        """The HTTP status to refuse with; None when the key may spend."""
        return None if self.denial is None else self.denial.status_code


async def key_period_spend(organization_id: int, api_key_id: int, period_start: datetime) -> int:
    """The key's spend (customer cost, nano-USD) in the billing period starting at
    `period_start` (UTC), from its spend counter; 0 when it has spent nothing."""
    params = Params(current_dialect())
    conditions = Scope.for_organization(organization_id).where(params)
    conditions.append(f"api_key_id = {params.add(api_key_id)}")
    conditions.append(f"period_start = {params.add(period_start)}")
    rows = await fetch_all(
        "SELECT spend_nanos FROM spend_counter WHERE " + " AND ".join(conditions), params
    )
    return int(rows[0]["spend_nanos"]) if rows else 0


async def check_key_access(
    organization_id: int,
    *,
    api_key_id: int | None,
    prefix: str | None,
    model: str,
    estimated_cost_nanos: int | None = None,
    now: datetime | None = None,
) -> KeyAccessDecision:
    """Whether the key (by id or by its visible prefix, within the organization) may spend on
    `model`. Raises BadInputError when neither or both identifiers are given, or the prefix
    names several keys. A limit block from an earlier billing period is lifted here, the
    first time the gateway asks in the new period."""
    key = await _find_key(organization_id, api_key_id, prefix)
    # A key known only from ingested usage (never synced) grants nothing: unknown, as before.
    if key is None or key.status is KeyStatus.UNSYNCED:
        return KeyAccessDecision(Denial.UNKNOWN_KEY, "unknown API key")
    org = await Organization.get(id=organization_id)
    period = billing_policy(org).period(now or datetime.now(UTC))
    spend = await key_period_spend(organization_id, key.id, period.start)
    if await _limit_block_expired(key, period, spend):
        key.status, key.status_reason, key.limit_blocked_period_start = KeyStatus.ACTIVE, None, None

    def deny(denial: Denial, reason: str) -> KeyAccessDecision:
        return KeyAccessDecision(denial, reason, key, spend, org.wallet_balance_nanos, period)

    name = f"API key '{key.label}'"
    if key.status is KeyStatus.REVOKED:
        return deny(Denial.KEY_REVOKED, f"{name} was revoked" + _detail(key.status_reason))
    if key.status is KeyStatus.BLOCKED:
        return deny(Denial.KEY_BLOCKED, f"{name} is blocked" + _detail(key.status_reason))
    limit = key.monthly_limit_nanos
    if limit is not None and spend >= limit:
        return deny(
            Denial.LIMIT_REACHED,
            f"{name} is blocked: monthly limit reached "
            f"(${format_usd(spend)} of ${format_usd(limit)} spent)",
        )
    if key.allowed_models is not None and model not in key.allowed_models:
        allowed = ", ".join(key.allowed_models) or "none"
        return deny(
            Denial.MODEL_NOT_ALLOWED,
            f"model '{model}' is not allowed for {name} (allowed: {allowed})",
        )
    budget_denial = await _budget_denial(org, period, estimated_cost_nanos)
    if budget_denial is not None:
        return deny(Denial.BUDGET_EXCEEDED, budget_denial)
    balance = org.wallet_balance_nanos
    if balance <= 0:
        return deny(
            Denial.INSUFFICIENT_BALANCE,
            f"insufficient balance: the wallet holds ${format_usd(balance)}",
        )
    if estimated_cost_nanos is not None and estimated_cost_nanos > balance:
        return deny(
            Denial.INSUFFICIENT_BALANCE,
            f"insufficient balance: ${format_usd(balance)} available, "
            f"${format_usd(estimated_cost_nanos)} estimated",
        )
    return KeyAccessDecision(None, None, key, spend, balance, period)


async def _find_key(
    organization_id: int, api_key_id: int | None, prefix: str | None
) -> ApiKey | None:
    if (api_key_id is None) == (prefix is None):
        raise BadInputError("give exactly one of apiKeyId and apiKeyPrefix")
    # The gateway asks with an ingest key: it acts for the organization, not for a viewer.
    query = Scope.for_organization(organization_id).filter(ApiKey)
    if api_key_id is not None:
        return await query.filter(id=api_key_id).first()
    matches = await query.filter(prefix=prefix).limit(2)
    if len(matches) > 1:
        raise BadInputError("apiKeyPrefix: several keys share this prefix; use apiKeyId")
    return matches[0] if matches else None


async def _limit_block_expired(key: ApiKey, period: TimeRange, spend_nanos: int) -> bool:
    """Reactivate a key whose limit block belongs to an earlier period; returns whether it did."""
    blocked_for = key.limit_blocked_period_start
    if key.status is not KeyStatus.BLOCKED or blocked_for is None or blocked_for >= period.start:
        return False
    limit = key.monthly_limit_nanos
    if limit is not None and spend_nanos >= limit:
        return False
    # Conditional on the block we saw: a concurrent ingest renewing it for this period wins.
    params = Params(current_dialect())
    update = (
        f"UPDATE api_key SET status = {params.add(KeyStatus.ACTIVE.value)}, "
        "status_reason = NULL, limit_blocked_period_start = NULL WHERE "
    )
    conditions = [
        f"id = {params.add(key.id)}",
        *Scope.for_organization(key.organization_id).where(params),
        f"status = {params.add(KeyStatus.BLOCKED.value)}",
        f"limit_blocked_period_start = {params.add(blocked_for)}",
    ]
    updated = await fetch_all(update + " AND ".join(conditions) + " RETURNING id", params)
    return bool(updated)


async def _budget_denial(
    org: Organization, period: TimeRange, estimated_cost_nanos: int | None
) -> str | None:
    """Why the organization's enforced budget refuses (None when it does not): its spend this
    period has reached the budget, or would pass it with the estimated cost."""
    budget = org.monthly_budget_nanos
    if budget is None or BudgetEnforcement(org.budget_enforcement) is not BudgetEnforcement.BLOCK:
        return None
    spend = await key_period_spend(org.id, ORGANIZATION_COUNTER, period.start)
    if spend >= budget:
        return (
            f"organization budget reached: ${format_usd(spend)} of "
            f"${format_usd(budget)} spent this billing period"
        )
    if estimated_cost_nanos is not None and spend + estimated_cost_nanos > budget:
        return (
            f"organization budget would be exceeded: ${format_usd(spend)} of "
            f"${format_usd(budget)} spent, ${format_usd(estimated_cost_nanos)} estimated"
        )
    return None


def _detail(status_reason: str | None) -> str:
    return f": {status_reason}" if status_reason else ""
