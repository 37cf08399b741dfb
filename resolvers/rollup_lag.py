"""How far the rollup folder (ingestion/folding.py) is behind: `fold_pending`'s rows and
the oldest one's age, for the viewer's organization (team information, for Admins and
Owners) or for all (the metrics endpoint, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.database import Dialect, Params, connection, dialect_of
from resolvers.scope import Scope


@dataclass(frozen=True, slots=True)
class FoldLag:
    """How far the folder is behind: rows still pending, and since when the oldest one
    waits (its ingest transaction's start, UTC; None when nothing is pending)."""

    pending_rows: int
    oldest_queued_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        """Seconds the oldest pending row has waited at `now` (0 when none)."""
        if self.oldest_queued_at is None:
            return 0.0
        return max((now - self.oldest_queued_at).total_seconds(), 0.0)


async def fold_lag(organization_id: int | None = None) -> FoldLag:
    """The folder's lag for one organization, or for all (None)."""
    conn = connection()
    if dialect_of(conn) is not Dialect.POSTGRES:
        return FoldLag(0, None)
    sql = "SELECT count(*) AS pending, min(queued_at) AS oldest FROM fold_pending"
    params = Params(Dialect.POSTGRES)
    if organization_id is not None:
        sql += " WHERE " + " AND ".join(Scope.for_organization(organization_id).where(params))
    [row] = await conn.execute_query_dict(sql, params.values)
    return FoldLag(int(row["pending"]), row["oldest"])


async def rollup_lag(scope: Scope) -> FoldLag:
    """The organization's rows whose rollups are not folded yet, and since when the oldest
    waits. ForbiddenError for a Member."""
    scope.require_team("The rollup lag")
    return await fold_lag(scope.organization_id)
