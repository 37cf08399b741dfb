"""RollupLag: how far the rollup folder is behind for the organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import strawberry

from graph.scalars import BigInt
from resolvers.rollup_lag import FoldLag


@strawberry.type(
    name="RollupLag",
    description=(
        "Requests stored but not yet folded into the pre-aggregated rollups (PostgreSQL folds "
        "them shortly after ingest; SQLite at ingest: always 0). Every usage figure already "
        "counts them: they are read from the raw log until folded, so this says how much "
        "raw reading the folder leaves to reads, not what is missing."
    ),
)
class RollupLagType:
    pending_requests: BigInt = strawberry.field(
        description="The organization's requests not folded yet."
    )
    oldest_pending_since: datetime | None = strawberry.field(
        description="When the oldest of them was ingested (UTC); null when none is pending."
    )
    oldest_pending_ms: BigInt = strawberry.field(
        description="How long the oldest has waited, in whole milliseconds (0 when none)."
    )

    @classmethod
    def from_lag(cls, lag: FoldLag, now: datetime | None = None) -> RollupLagType:
        oldest = lag.oldest_queued_at
        waited = timedelta(0) if oldest is None else (now or datetime.now(UTC)) - oldest
        return cls(
            pending_requests=BigInt(lag.pending_rows),
            oldest_pending_since=oldest,
            oldest_pending_ms=BigInt(max(waited // timedelta(milliseconds=1), 0)),
        )
