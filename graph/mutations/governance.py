"""Cost-governance mutations (Owners only): the limit approval threshold, the budget's
enforcement mode, and deciding on pending limit requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from admin.governance_settings import set_budget_enforcement, set_limit_approval_threshold
from admin.limit_requests import approve_limit_request, reject_limit_request
from audit.trail import Actor
from graph.context import Info
from graph.errors import BadUserInputError
from graph.inputs.amounts import optional_amount_nanos
from graph.permissions import IsOwner, require
from graph.types.limit_request import LimitRequestType
from graph.types.organization import BudgetEnforcementEnum, OrganizationType
from models.global_ids import decode_global_id_of
from models.organization import BudgetEnforcement


def _request_pk(request_id: strawberry.ID) -> int:
    # Undecodable ids, ids of other types and other tenants' ids are NOT_FOUND alike.
    return decode_global_id_of(str(request_id), "LimitRequest") or -1


@strawberry.type
class GovernanceMutations:
    @strawberry.mutation(
        description=(
            "Owners only: key limits an Admin sets above `amount` USD (> 0), or clears, wait "
            "for an Owner's approval as a LimitRequest; null turns approvals off. Pending "
            "requests stay pending."
        ),
        extensions=require(IsOwner),
    )
    async def set_limit_approval_threshold(
        self,
        info: Info,
        amount: Annotated[
            Decimal | None,
            strawberry.argument(
                description="The threshold in USD (> 0); null turns approvals off."
            ),
        ] = strawberry.UNSET,
    ) -> OrganizationType:
        if amount is strawberry.UNSET:
            raise BadUserInputError("amount: required; send null to turn approvals off")
        threshold = optional_amount_nanos(amount, "amount")
        viewer = info.context.viewer
        org = await set_limit_approval_threshold(
            Actor.of(viewer), viewer.organization_id, threshold
        )
        return OrganizationType.from_model(org)

    @strawberry.mutation(
        description=(
            "Owners only: what reaching the monthly budget does. ALERT_ONLY: BUDGET alerts "
            "only. BLOCK: keyAccess also refuses (402 BUDGET_EXCEEDED) once the period's "
            "spend reaches the budget, or would pass it with the estimated cost."
        ),
        extensions=require(IsOwner),
    )
    async def set_budget_enforcement(
        self,
        info: Info,
        mode: Annotated[
            BudgetEnforcementEnum, strawberry.argument(description="ALERT_ONLY or BLOCK.")  # type: ignore[valid-type]
        ],
    ) -> OrganizationType:
        viewer = info.context.viewer
        org = await set_budget_enforcement(
            Actor.of(viewer), viewer.organization_id, BudgetEnforcement(mode)
        )
        return OrganizationType.from_model(org)

    @strawberry.mutation(
        description=(
            "Owners only: approve a PENDING limit request; the key gets the requested limit "
            "at once. BAD_USER_INPUT when it was already decided."
        ),
        extensions=require(IsOwner),
    )
    async def approve_limit_request(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The limit request's global id.")
        ],
    ) -> LimitRequestType:
        viewer = info.context.viewer
        request = await approve_limit_request(
            Actor.of(viewer), viewer.organization_id, _request_pk(id)
        )
        return LimitRequestType.from_model(request)

    @strawberry.mutation(
        description=(
            "Owners only: reject a PENDING limit request (reason: at most 500 characters); "
            "the key keeps its limit. BAD_USER_INPUT when it was already decided."
        ),
        extensions=require(IsOwner),
    )
    async def reject_limit_request(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The limit request's global id.")
        ],
        reason: Annotated[
            str | None,
            strawberry.argument(description="Why, shown to the Admin (at most 500 characters)."),
        ] = None,
    ) -> LimitRequestType:
        viewer = info.context.viewer
        cleaned = None if reason is None else (reason.strip() or None)
        request = await reject_limit_request(
            Actor.of(viewer), viewer.organization_id, _request_pk(id), cleaned
        )
        return LimitRequestType.from_model(request)
