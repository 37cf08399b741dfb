"""The viewer's organization: the only one a token can ever reach."""

from __future__ import annotations

from models.organization import Organization
from resolvers.scope import Scope


async def organization_for(scope: Scope) -> Organization:
    return await Organization.get(id=scope.organization_id)
