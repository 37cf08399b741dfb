"""KeyAccess: the gateway's "may this key spend?" answer, and the Query.keyAccess resolver."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.context import Info
from graph.errors import BadUserInputError
from graph.inputs.amounts import optional_amount_nanos
from graph.scalars import usd
from graph.types.enum_values import describe_values
from graph.types.enums import KeyStatusEnum
from models.api_key import KeyStatus
from models.global_ids import decode_global_id_of, encode_global_id
from resolvers.key_access import Denial, KeyAccessDecision, check_key_access

KeyAccessDenialEnum = strawberry.enum(
    Denial,
    name="KeyAccessDenial",
    description=(
        "Why a key may not spend. 401: UNKNOWN_KEY, KEY_REVOKED, KEY_BLOCKED, LIMIT_REACHED; "
        "403: MODEL_NOT_ALLOWED; 402: BUDGET_EXCEEDED, INSUFFICIENT_BALANCE."
    ),
)

describe_values(
    KeyAccessDenialEnum,
    {
        "UNKNOWN_KEY": "No such key in the organization (or not yet synced).",
        "KEY_REVOKED": "The key is revoked.",
        "KEY_BLOCKED": "The key is blocked.",
        "LIMIT_REACHED": (
            "The key's monthly spend reached its limit (or would pass it with the estimated cost)."
        ),
        "MODEL_NOT_ALLOWED": "The key may not use this model.",
        "BUDGET_EXCEEDED": "The organization's budget is reached and enforcement is BLOCK.",
        "INSUFFICIENT_BALANCE": "The wallet cannot pay for the request.",
    },
)

KEY_ACCESS_DESCRIPTION = (
    "For the gateway (ingest tokens only): may this key spend on this model now? Give "
    "exactly one of `apiKeyId` and `apiKeyPrefix`. A refusal carries the HTTP status to "
    "answer with: 401 unknown, revoked or blocked key (a key at its monthly limit is "
    "blocked), 403 model not allowed for the key, 402 organization budget reached when its "
    "enforcement is BLOCK (spend at or over the budget, or spend + `estimatedCost` over it), "
    "402 insufficient balance (balance at or below 0, or below `estimatedCost`)."
)


@strawberry.type(name="KeyAccess", description="Whether a key may spend, and if not, why.")
class KeyAccessType:
    allowed: bool = strawberry.field(description="True when the gateway may serve the request.")
    status_code: int | None = strawberry.field(
        description="HTTP status to refuse with (401, 402, 403); null when allowed."
    )
    denial: KeyAccessDenialEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Why not, when `allowed` is false; null when allowed."
    )
    reason: str | None = strawberry.field(description="What to tell the caller; null if allowed.")
    api_key_id: strawberry.ID | None = strawberry.field(description="Null for an unknown key.")
    key_status: KeyStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The key's status; null when the key is unknown."
    )
    monthly_limit: Decimal | None = strawberry.field(description="USD; null: no limit.")
    monthly_spend: Decimal | None = strawberry.field(
        description="USD the key spent in the current billing period."
    )
    remaining_limit: Decimal | None = strawberry.field(
        description="USD left under the monthly limit (0 when reached); null: no limit."
    )
    balance: Decimal | None = strawberry.field(description="USD in the organization's wallet.")
    period_start: datetime | None = strawberry.field(
        description="Start of the key's current limit period (UTC); null for an unknown key."
    )
    period_end: datetime | None = strawberry.field(
        description=(
            "End of the key's current limit period (UTC), exclusive; null for an unknown key."
        )
    )

    @classmethod
    def from_decision(cls, decision: KeyAccessDecision) -> KeyAccessType:
        key = decision.key
        limit = None if key is None else key.monthly_limit_nanos
        known = key is not None
        return cls(
            allowed=decision.allowed,
            status_code=decision.status_code,
            denial=decision.denial,
            reason=decision.reason,
            api_key_id=None if key is None else strawberry.ID(encode_global_id("ApiKey", key.id)),
            key_status=None if key is None else KeyStatus(key.status),
            monthly_limit=None if limit is None else usd(limit),
            monthly_spend=usd(decision.spend_nanos) if known else None,
            remaining_limit=None if limit is None else usd(max(0, limit - decision.spend_nanos)),
            balance=usd(decision.balance_nanos) if known else None,
            period_start=None if decision.period is None else decision.period.start,
            period_end=None if decision.period is None else decision.period.end,
        )


async def resolve_key_access(
    info: Info,
    model: str,
    api_key_id: strawberry.ID | None,
    api_key_prefix: str | None,
    estimated_cost: Decimal | None,
) -> KeyAccessType:
    """The decision for the ingest token's organization; a key id of another tenant (or of
    another type) is an unknown key, exactly like a missing one."""
    estimate = optional_amount_nanos(estimated_cost, "estimatedCost")
    if estimate is not None and estimate < 0:
        raise BadUserInputError("estimatedCost: cannot be negative")
    if not model.strip():
        raise BadUserInputError("model: must not be empty")
    key_pk = None
    if api_key_id is not None:
        key_pk = decode_global_id_of(str(api_key_id), "ApiKey") or -1
    decision = await check_key_access(
        info.context.viewer.organization_id,
        api_key_id=key_pk,
        prefix=api_key_prefix,
        model=model.strip(),
        estimated_cost_nanos=estimate,
    )
    return KeyAccessType.from_decision(decision)
