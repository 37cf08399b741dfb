"""What a committed write announces: which organization changed, and the oldest request
timestamp it wrote (so a "new logs" feed knows how far back to look).

On PostgreSQL the notice is a `pg_notify` issued inside the writing transaction: PostgreSQL
delivers it to every listening process when, and only if, the transaction commits. On SQLite
(one process) the writer hands it to the in-process bus after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models.database import Dialect, dialect_of

CHANNEL = "aize_live"


@dataclass(frozen=True, slots=True)
class Notice:
    """Organization `organization_id` committed changes; `oldest` is the earliest request
    timestamp (aware UTC) among the logs it wrote, None when it wrote no logs (an alert)."""

    organization_id: int
    oldest: datetime | None = None

    def encode(self) -> str:
        """`<org id>` or `<org id>:<oldest, integer microseconds since the epoch UTC>`."""
        if self.oldest is None:
            return str(self.organization_id)
        micros = round(self.oldest.timestamp() * 1_000_000)
        return f"{self.organization_id}:{micros}"

    @classmethod
    def decode(cls, payload: str) -> Notice | None:
        """The notice a payload carries; None for one this version cannot read."""
        org, _, micros = payload.partition(":")
        try:
            oldest = datetime.fromtimestamp(int(micros) / 1_000_000, UTC) if micros else None
            return cls(int(org), oldest)
        except ValueError:
            return None


async def notify_in_transaction(conn: BaseDBAsyncClient, notices: list[Notice]) -> None:
    """PostgreSQL: queue the notices in the caller's transaction (delivered on commit).
    SQLite: nothing here; the writer publishes in process after its commit."""
    if not notices or dialect_of(conn) is not Dialect.POSTGRES:
        return
    for notice in notices:
        await conn.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, notice.encode()])


def notices_for(rows: list[tuple[int, datetime]]) -> list[Notice]:
    """One notice per organization among (organization id, request timestamp) pairs, with
    its oldest timestamp."""
    oldest: dict[int, datetime] = {}
    for organization_id, timestamp in rows:
        seen = oldest.get(organization_id)
        if seen is None or timestamp < seen:
            oldest[organization_id] = timestamp
    return [Notice(org, ts) for org, ts in sorted(oldest.items())]
