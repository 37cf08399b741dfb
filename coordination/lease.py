"""Take or renew a named lease in `service_lease`, atomically, on the database's clock.

One statement does it (an upsert whose update applies only when the caller already holds
the lease or the lease has expired), so two processes racing for an expired lease cannot
both win: PostgreSQL serialises the conflicting upserts on the row, SQLite the whole write.
Times are milliseconds since the epoch read from the database's own clock, so processes on
machines whose clocks disagree still agree on when a lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from models.database import Dialect, Params, connection, dialect_of, fetch_all

_NOW_MS = {
    Dialect.POSTGRES: "(extract(epoch from clock_timestamp()) * 1000)::bigint",
    Dialect.SQLITE: "CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
}


@dataclass(frozen=True, slots=True)
class LeaseState:
    """A lease as stored: who holds it, until when (ms since the epoch, database clock),
    and its term (one more for every change of holder)."""

    name: str
    holder: str
    expires_at_ms: int
    term: int
    acquired_at_ms: int


async def claim_lease(
    name: str, holder: str, ttl_ms: int, conn: BaseDBAsyncClient | None = None
) -> LeaseState | None:
    """Take the lease `name` for `holder` for `ttl_ms`, or extend it if `holder` has it.

    Returns the lease as now stored when `holder` holds it, else None (another holder's
    lease has not expired yet)."""
    client = conn or connection()
    dialect = dialect_of(client)
    now = _NOW_MS[dialect]
    params = Params(dialect)
    name_p, holder_p, ttl_p = params.add(name), params.add(holder), params.add(ttl_ms)
    sql = (
        "INSERT INTO service_lease (name, holder, expires_at_ms, term, acquired_at_ms) "
        f"VALUES ({name_p}, {holder_p}, {now} + {ttl_p}, 1, {now}) "
        "ON CONFLICT (name) DO UPDATE SET "
        "expires_at_ms = excluded.expires_at_ms, "
        "term = service_lease.term "
        "+ CASE WHEN service_lease.holder = excluded.holder THEN 0 ELSE 1 END, "
        "acquired_at_ms = CASE WHEN service_lease.holder = excluded.holder "
        "THEN service_lease.acquired_at_ms ELSE excluded.acquired_at_ms END, "
        "holder = excluded.holder "
        "WHERE service_lease.holder = excluded.holder "
        f"OR service_lease.expires_at_ms <= {now} "
        "RETURNING name, holder, expires_at_ms, term, acquired_at_ms"
    )
    rows = await fetch_all(sql, params, client)
    return _state(rows[0]) if rows else None


async def release_lease(name: str, holder: str) -> bool:
    """Give the lease up at once if `holder` holds it (a clean shutdown), so another process
    takes over without waiting for it to expire. Returns whether it was released."""
    client = connection()
    params = Params(dialect_of(client))
    sql = (
        f"UPDATE service_lease SET expires_at_ms = 0 "
        f"WHERE name = {params.add(name)} AND holder = {params.add(holder)} RETURNING name"
    )
    return bool(await fetch_all(sql, params, client))


async def read_lease(name: str) -> LeaseState | None:
    """The lease as stored (None if nobody ever took it), for operators."""
    client = connection()
    params = Params(dialect_of(client))
    sql = (
        "SELECT name, holder, expires_at_ms, term, acquired_at_ms FROM service_lease "
        f"WHERE name = {params.add(name)}"
    )
    rows = await fetch_all(sql, params, client)
    return _state(rows[0]) if rows else None


async def database_now_ms() -> int:
    """The database clock, in ms since the epoch (what lease times are compared with)."""
    client = connection()
    params = Params(dialect_of(client))
    rows = await fetch_all(f"SELECT {_NOW_MS[params.dialect]} AS now_ms", params, client)
    return int(rows[0]["now_ms"])


def _state(row: dict[str, object]) -> LeaseState:
    return LeaseState(
        name=str(row["name"]),
        holder=str(row["holder"]),
        expires_at_ms=int(str(row["expires_at_ms"])),
        term=int(str(row["term"])),
        acquired_at_ms=int(str(row["acquired_at_ms"])),
    )
