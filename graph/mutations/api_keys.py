"""API key administration (Admins/Owners): a key's label, owner and allowed models."""

from __future__ import annotations

from typing import Annotated

import strawberry

from admin.key_administration import ApiKeyChanges, update_api_key
from audit.trail import Actor
from graph.context import Info
from graph.errors import BadUserInputError
from graph.permissions import CanAdminister, require
from graph.types.api_key import ApiKeyType
from models.global_ids import decode_global_id_of
from resolvers.unchanged import UNCHANGED


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        description=(
            "Admins/Owners: change a key's label, owner (a member's id; null makes it a team "
            "key) and allowed models (null: every model; an empty list: none). Arguments "
            "left out keep their value. Recorded in the audit trail."
        ),
        extensions=require(CanAdminister),
    )
    async def update_api_key(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's global id.")],
        label: Annotated[
            str | None, strawberry.argument(description="The key's new name.")
        ] = strawberry.UNSET,
        owner_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The new owner's member id; null makes it a team key."),
        ] = strawberry.UNSET,
        allowed_models: Annotated[
            list[str] | None,
            strawberry.argument(
                description=(
                    "Model aliases the key may use; null allows every model, an empty list none."
                )
            ),
        ] = strawberry.UNSET,
    ) -> ApiKeyType:
        viewer = info.context.viewer
        if label is None:
            raise BadUserInputError("label: cannot be null; leave it out to keep the label")
        changes = ApiKeyChanges(
            label=UNCHANGED if label is strawberry.UNSET else label,
            owner_member_id=(
                UNCHANGED
                if owner_id is strawberry.UNSET
                else None
                if owner_id is None
                # Another type's id or garbage is NOT_FOUND like a missing member (-1 never is).
                else decode_global_id_of(str(owner_id), "Member") or -1
            ),
            allowed_models=UNCHANGED if allowed_models is strawberry.UNSET else allowed_models,
        )
        key = await update_api_key(
            viewer.organization_id,
            Actor.of(viewer),
            decode_global_id_of(str(id), "ApiKey") or -1,
            changes,
        )
        return ApiKeyType.from_model(key)
