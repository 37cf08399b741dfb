"""Bulk load of the benchmark data into PostgreSQL: the directory through the ORM, the
request logs with binary COPY, then every rollup family built in SQL with the same
definitions the service uses (ingestion.rollup_sql).

    python -m bench.load_data --rows 1000000 [--seed 1] [--database-url URL]

Without --database-url the data goes to a scratch database named for the row count and
seed on 127.0.0.1:5432 (created if missing, never the `test` database); a database that
already holds the same plan is reused as is unless --reload is given.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from tortoise.transactions import in_transaction

from bench.datagen import DataPlan, OrgSpec, generate_rows, plan_directory
from ingestion.log_row import LOG_COLUMNS
from ingestion.rollup_sql import rebuild_statements
from ingestion.rollups import ROLLUP_ORDER
from models.api_key import ApiKey
from models.database import apply_migrations, close_database, connection, init_database
from models.member import Member, Role
from models.organization import Organization
from models.request_log_partitions import (
    MonthPartition,
    add_month_partition,
    add_months,
    month_partitions,
    month_start,
)
from settings import Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_COPY_ROWS = 50_000
COPY_PROCESSES = 2
_META_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_meta (rows bigint, seed integer, days integer, "
    "data_end timestamptz, big_organization_id integer, loaded_seconds double precision)"
)
# Session settings for the bulk statements: big sorts and hashes stay in memory.
_BULK_SETTINGS = {"work_mem": "1GB", "maintenance_work_mem": "1GB", "jit": "off"}


@dataclass(frozen=True, slots=True)
class LoadedData:
    """What a loaded benchmark database holds."""

    database_url: str
    rows: int
    seed: int
    data_end: datetime
    big_organization_id: int
    loaded_seconds: float
    reused: bool


def scratch_name(rows: int, seed: int) -> str:
    """The scratch database name for a plan (never `test`)."""
    return f"aize_bench_dash_{rows}_s{seed}"


def _asyncpg_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def ensure_database(name: str) -> str:
    """Create the scratch database if missing; returns its postgres:// URL."""
    if name in {"test", "postgres", "template0", "template1"}:
        raise ValueError(f"refusing to use the {name!r} database for benchmark data")
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgres://postgres@127.0.0.1:5432/{name}"


async def drop_database(name: str) -> None:
    """Drop a scratch database (refuses the shared ones)."""
    if not name.startswith("aize_bench_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark scratch database")
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def existing_load(database_url: str, plan: DataPlan) -> LoadedData | None:
    """The load already in the database when it matches the plan's rows and seed."""
    conn = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        if not await conn.fetchval("SELECT to_regclass('bench_meta') IS NOT NULL"):
            return None
        row = await conn.fetchrow("SELECT * FROM bench_meta LIMIT 1")
    finally:
        await conn.close()
    if row is None or row["rows"] != plan.rows or row["seed"] != plan.seed:
        return None
    return LoadedData(
        database_url,
        plan.rows,
        plan.seed,
        row["data_end"],
        row["big_organization_id"],
        row["loaded_seconds"],
        reused=True,
    )


async def add_partitions(plan: DataPlan) -> None:
    """request_log's monthly partitions for every month of the plan (PostgreSQL), as the
    maintenance job keeps them ahead of time in production; Tortoise must be initialized."""
    conn = connection()
    rows = await conn.execute_query_dict(
        "SELECT relkind::text AS kind FROM pg_class WHERE oid = 'request_log'::regclass"
    )
    if rows[0]["kind"] != "p":
        return
    existing = {p.name for p in await month_partitions(conn)}
    month = month_start(plan.start)
    while month < plan.end:
        partition = MonthPartition.of(month)
        if partition.name not in existing:
            async with in_transaction() as transaction:
                await add_month_partition(transaction, partition)
        month = add_months(month, 1)


async def store_directory(orgs: list[OrgSpec]) -> None:
    """Create the organizations, members and keys (Tortoise must be initialized); fills in
    their ids."""
    for spec in orgs:
        org = await Organization.create(
            name=spec.name,
            slug=spec.slug,
            timezone=spec.timezone,
            markup_bps=spec.markup_bps,
            fixed_fee_nanos=spec.fixed_fee_nanos,
            wallet_balance_nanos=10**18,
        )
        spec.organization_id = org.id
        members = [
            Member(
                organization=org,
                name=f"{spec.name} person {i}",
                email=f"p{i}@{spec.slug}.example.com",
                role=Role.OWNER if i == 0 else Role.ADMIN if i == 1 else Role.MEMBER,
            )
            for i in range(spec.members)
        ]
        await Member.bulk_create(members)
        stored = await Member.filter(organization_id=org.id).order_by("id")
        spec.member_ids = [m.id for m in stored]
        keys = [
            ApiKey(
                organization=org,
                owner_id=None if k.owner is None else spec.member_ids[k.owner],
                label=f"{spec.slug} key {k.index}",
                prefix=f"sk-{spec.index:02d}-{k.index:04d}",
            )
            for k in spec.keys
        ]
        await ApiKey.bulk_create(keys)
        stored_keys = await ApiKey.filter(organization_id=org.id).order_by("id")
        spec.key_ids = [k.id for k in stored_keys]


async def copy_logs(database_url: str, plan: DataPlan, orgs: list[OrgSpec]) -> int:
    """COPY every generated row into request_log from `COPY_PROCESSES` processes (each
    generates and sends its share of the days: generation is the slow part); returns the
    number of rows."""
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(COPY_PROCESSES, mp_context=context) as pool:
        counts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    _copy_days,
                    database_url,
                    plan,
                    orgs,
                    list(range(worker, plan.days, COPY_PROCESSES)),
                )
                for worker in range(COPY_PROCESSES)
            )
        )
    return sum(counts)


def _copy_days(database_url: str, plan: DataPlan, orgs: list[OrgSpec], days: list[int]) -> int:
    return asyncio.run(copy_days(database_url, plan, orgs, days))


async def copy_days(database_url: str, plan: DataPlan, orgs: list[OrgSpec], days: list[int]) -> int:
    """COPY the rows of `days` into request_log on one connection; returns the count."""
    conn = await asyncpg.connect(_asyncpg_url(database_url), server_settings=_BULK_SETTINGS)
    columns = [*LOG_COLUMNS, "ingested_at"]
    batch: list[tuple[object, ...]] = []
    total = 0
    try:
        for row in generate_rows(plan, orgs, datetime.now(UTC), days):
            batch.append(row)
            if len(batch) == _COPY_ROWS:
                await conn.copy_records_to_table("request_log", records=batch, columns=columns)
                total += len(batch)
                batch = []
        if batch:
            await conn.copy_records_to_table("request_log", records=batch, columns=columns)
            total += len(batch)
    finally:
        await conn.close()
    return total


async def rebuild_rollups(database_url: str) -> None:
    """Empty and rebuild every rollup table, two statements at a time (two cores)."""
    conns = [
        await asyncpg.connect(_asyncpg_url(database_url), server_settings=_BULK_SETTINGS)
        for _ in range(2)
    ]
    try:
        names = [family.table(grain) for family, grain in ROLLUP_ORDER]
        tables = ", ".join(names)
        await conns[0].execute(f"TRUNCATE {tables}")
        # Bulk inserts into tables without indexes, then one sorted build per index, are
        # several times faster than maintaining the indexes row by row.
        constraints = await conns[0].fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u') "
            "ORDER BY contype",
            names,
        )
        for row in constraints:
            await conns[0].execute(f'ALTER TABLE {row["tbl"]} DROP CONSTRAINT "{row["conname"]}"')
        for stage in rebuild_statements():
            await _run_concurrently(conns, stage)
        await _run_concurrently(
            conns,
            [
                f'ALTER TABLE {row["tbl"]} ADD CONSTRAINT "{row["conname"]}" {row["def"]}'
                for row in constraints
            ],
        )
        # Sets the visibility map too, as autovacuum does for days no longer written, so
        # reads of closed periods are index-only scans.
        await conns[0].execute(f"VACUUM (ANALYZE) {tables}")
    finally:
        for conn in conns:
            await conn.close()


async def _run_concurrently(conns: list[asyncpg.Connection], statements: list[str]) -> None:
    pending = list(statements)

    async def worker(conn: asyncpg.Connection) -> None:
        while pending:
            await conn.execute(pending.pop(0))

    await asyncio.gather(*(worker(c) for c in conns))


async def load(database_url: str, plan: DataPlan, *, log: bool = True) -> LoadedData:
    """Migrate, store the directory, COPY the logs, rebuild the rollups, analyze."""
    started = time.perf_counter()

    def step(message: str) -> None:
        if log:
            print(f"  [{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
    await apply_migrations(settings)
    orgs = plan_directory(plan)
    await init_database(settings)
    try:
        await add_partitions(plan)
        await store_directory(orgs)
    finally:
        await close_database()
    step(f"directory stored: {len(orgs)} organizations")
    count = await copy_logs(database_url, plan, orgs)
    conn = await asyncpg.connect(_asyncpg_url(database_url), server_settings=_BULK_SETTINGS)
    try:
        step(f"{count:,} request logs copied")
        # The directory too: a few hundred rows that autovacuum would analyze within the
        # minute; without statistics, a log page's join to its keys plans as if each
        # organization had one key.
        await conn.execute("ANALYZE request_log, organization, api_key, member")
        await rebuild_rollups(database_url)
        step("rollups, cubes and latency histograms built")
        seconds = time.perf_counter() - started
        await conn.execute(_META_DDL)
        await conn.execute("TRUNCATE bench_meta")
        await conn.execute(
            "INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5, $6)",
            plan.rows,
            plan.seed,
            plan.days,
            plan.end,
            orgs[0].organization_id,
            seconds,
        )
    finally:
        await conn.close()
    return LoadedData(
        database_url, plan.rows, plan.seed, plan.end, orgs[0].organization_id, seconds, False
    )


async def ensure_loaded(
    plan: DataPlan, database_url: str | None = None, *, reload: bool = False
) -> LoadedData:
    """The benchmark database for `plan`, loading it unless it already holds that plan (then
    only its pending migrations are applied)."""
    if database_url is None:
        name = scratch_name(plan.rows, plan.seed)
        if reload:
            await drop_database(name)
        database_url = await ensure_database(name)
    if not reload:
        found = await existing_load(database_url, plan)
        if found is not None:
            # The data stays; the schema follows the code (a new index, say).
            await apply_migrations(Settings.from_env({"AIZE_DATABASE_URL": database_url}))
            return found
    return await load(database_url, plan)


async def disk_usage(database_url: str) -> list[tuple[str, int]]:
    """(relation, bytes including indexes) for the database and its largest tables."""
    conn = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        total = await conn.fetchval("SELECT pg_database_size(current_database())")
        rows = await conn.fetch(
            "SELECT c.relname, pg_total_relation_size(c.oid) AS size FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind IN ('r', 'p') ORDER BY size DESC LIMIT 24"
        )
    finally:
        await conn.close()
    return [("(database)", int(total)), *((r["relname"], int(r["size"])) for r in rows)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load_data", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reload", action="store_true", help="load again even if present")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    loaded = await ensure_loaded(
        DataPlan(rows=args.rows, seed=args.seed), args.database_url, reload=args.reload
    )
    state = "reused" if loaded.reused else f"loaded in {loaded.loaded_seconds:.0f} s"
    print(f"{loaded.rows:,} rows {state}: {loaded.database_url}")
    for name, size in await disk_usage(loaded.database_url):
        print(f"  {name:40s} {size / 2**20:10,.1f} MiB")


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_main(parse_args(argv)))


if __name__ == "__main__":
    main()
