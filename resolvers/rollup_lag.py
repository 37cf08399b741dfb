"""How far the rollup folder is behind for the viewer's organization (ingestion/folding.py):
team information, for Admins and Owners."""

from __future__ import annotations

from ingestion.folding import FoldLag, fold_lag
from resolvers.scope import Scope


async def rollup_lag(scope: Scope) -> FoldLag:
    """The organization's rows whose rollups are not folded yet, and since when the oldest
    waits. ForbiddenError for a Member."""
    scope.require_team("The rollup lag")
    return await fold_lag(scope.organization_id)
