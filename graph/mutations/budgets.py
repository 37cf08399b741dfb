"""Budget and key-control mutations (Admins/Owners): the organization's monthly budget, and
each key's monthly limit, status and allowed models."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from admin.limit_requests import change_api_key_limit
from audit.trail import Actor
from graph.context import Info
from graph.errors import BadUserInputError
from graph.inputs.amounts import optional_amount_nanos
from graph.permissions import CanAdminister, require
from graph.types.api_key import ApiKeyType
from graph.types.enums import KeyStatusEnum
from graph.types.organization import OrganizationType
from models.api_key import KeyStatus
from models.global_ids import decode_global_id_of
from spend.budgets import (
    set_api_key_allowed_models,
    set_api_key_status,
    set_monthly_budget,
)


def _required(value: Decimal | None, argument: str) -> Decimal | None:
    # Null clears the setting, so leaving the argument out must not quietly mean null too.
    if value is strawberry.UNSET:
        raise BadUserInputError(f"{argument}: required; send null to clear it")
    return value


def _key_pk(api_key_id: strawberry.ID) -> int:
    # Undecodable ids and ids of other types are NOT_FOUND like a missing key (-1 never is).
    return decode_global_id_of(str(api_key_id), "ApiKey") or -1


@strawberry.type
class BudgetMutations:
    @strawberry.mutation(
        description=(
            "Set the organization's monthly budget in USD (> 0), or clear it with null. "
            "BUDGET alerts fire at 75%, 90% and 100%, once per billing period."
        ),
        extensions=require(CanAdminister),
    )
    async def set_monthly_budget(
        self,
        info: Info,
        amount: Annotated[
            Decimal | None,
            strawberry.argument(description="The budget in USD (> 0); null clears it."),
        ] = strawberry.UNSET,
    ) -> OrganizationType:
        budget = optional_amount_nanos(_required(amount, "amount"), "amount")
        viewer = info.context.viewer
        org = await set_monthly_budget(viewer.organization_id, budget, actor=Actor.of(viewer))
        return OrganizationType.from_model(org)

    @strawberry.mutation(
        description=(
            "Set a key's monthly limit in USD (> 0), or clear it with null. KEY_LIMIT alerts "
            "fire at 75%, 90% and 100% once per period; at 100% the key is blocked. A limit "
            "above the key's spend (or none) lifts a block the limit caused. When an Admin "
            "raises it above the organization's limitApprovalThreshold (or clears it), the "
            "key keeps its limit and `pendingLimitRequest` shows the request Owners decide "
            "on; an Owner's change applies at once."
        ),
        extensions=require(CanAdminister),
    )
    async def set_api_key_limit(
        self,
        info: Info,
        api_key_id: Annotated[
            strawberry.ID, strawberry.argument(description="The key's global id.")
        ],
        monthly_limit: Annotated[
            Decimal | None,
            strawberry.argument(description="The limit in USD (> 0); null clears it."),
        ] = strawberry.UNSET,
    ) -> ApiKeyType:
        limit = optional_amount_nanos(_required(monthly_limit, "monthlyLimit"), "monthlyLimit")
        viewer = info.context.viewer
        change = await change_api_key_limit(
            Actor.of(viewer), viewer.is_owner, viewer.organization_id, _key_pk(api_key_id), limit
        )
        return ApiKeyType.from_model(change.key)

    @strawberry.mutation(
        description=(
            "Block, revoke or reactivate a key. Revocation is final; reactivating a key at "
            "its monthly limit is refused (raise or clear the limit instead)."
        ),
        extensions=require(CanAdminister),
    )
    async def set_api_key_status(
        self,
        info: Info,
        api_key_id: Annotated[
            strawberry.ID, strawberry.argument(description="The key's global id.")
        ],
        status: Annotated[
            KeyStatusEnum, strawberry.argument(description="ACTIVE, BLOCKED or REVOKED.")  # type: ignore[valid-type]
        ],
        reason: Annotated[
            str | None, strawberry.argument(description="Why, kept with the key (user text).")
        ] = None,
    ) -> ApiKeyType:
        viewer = info.context.viewer
        key = await set_api_key_status(
            viewer.organization_id,
            _key_pk(api_key_id),
            KeyStatus(status),
            reason,
            actor=Actor.of(viewer),
        )
        return ApiKeyType.from_model(key)

    @strawberry.mutation(
        description=(
            "Restrict a key to these model aliases (the gateway answers 403 for others); "
            "null allows every model, an empty list none."
        ),
        extensions=require(CanAdminister),
    )
    async def set_api_key_allowed_models(
        self,
        info: Info,
        api_key_id: Annotated[
            strawberry.ID, strawberry.argument(description="The key's global id.")
        ],
        models: Annotated[
            list[str] | None,
            strawberry.argument(
                description=(
                    "Model aliases the key may use; null allows every model, an empty list none."
                )
            ),
        ] = strawberry.UNSET,
    ) -> ApiKeyType:
        if models is strawberry.UNSET:
            raise BadUserInputError("models: required; send null to allow every model")
        viewer = info.context.viewer
        key = await set_api_key_allowed_models(
            viewer.organization_id, _key_pk(api_key_id), models, actor=Actor.of(viewer)
        )
        return ApiKeyType.from_model(key)
