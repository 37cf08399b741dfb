"""Organization settings (Admins/Owners; money, billing and body logging Owners only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from admin.organization_settings import update_organization_settings
from audit.trail import Actor
from graph.context import Info
from graph.inputs.organization_settings import UpdateOrganizationSettingsInput
from graph.permissions import CanAdminister, require
from graph.types.organization import OrganizationType


@strawberry.type
class OrganizationSettingsMutations:
    @strawberry.mutation(
        description=(
            "Change the organization's settings; fields left out keep their value. A new "
            "markup or fee starts at `pricingEffectiveFrom` (see `pricingHistory`); requests "
            "before it keep their price. Recorded in the audit trail."
        ),
        extensions=require(CanAdminister),
    )
    async def update_organization_settings(
        self,
        info: Info,
        input: Annotated[
            UpdateOrganizationSettingsInput,
            strawberry.argument(description="The settings to change; those left out stay."),
        ],
    ) -> OrganizationType:
        viewer = info.context.viewer
        # The permission on the field guarantees a member behind the token.
        assert viewer.role is not None
        org = await update_organization_settings(
            viewer.organization_id, Actor.of(viewer), viewer.role, input.to_changes()
        )
        return OrganizationType.from_model(org)
