"""Alert mutations: acknowledging a fired alert (Admins/Owners)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.context import Info
from graph.permissions import CanAdminister, require
from graph.types.alert import AlertEventType, decode_alert_id
from models.organization import Organization
from resolvers.alerts import acknowledge_alert


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        description="Mark an alert as seen; acknowledging it again keeps the first time.",
        extensions=require(CanAdminister),
    )
    async def acknowledge_alert(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The alert's global id.")],
    ) -> AlertEventType:
        scope = info.context.scope
        record = await acknowledge_alert(scope, decode_alert_id(id))
        org = await Organization.get(id=scope.organization_id)
        return AlertEventType.from_record(record, org)
