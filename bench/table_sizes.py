"""Bytes of every table and its indexes against the raw log's, on a loaded benchmark database.

    python -m bench.table_sizes --database-url postgres://postgres@127.0.0.1:5432/aize_bench_x

For each table of the public schema (a partitioned table counts its partitions): heap bytes
(TOAST included), index bytes, and the rows the big organization's last 30 days hold there
(bench.load_data's `bench_meta` names the organization and the data's end), as a Markdown
table. Then every table together against request_log with its indexes: the ratio issue 17
bounds (≤ 2 at 10M logs). Read-only; `--indexes` lists request_log's indexes too.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from bench.load_data import _asyncpg_url

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TableSize:
    name: str
    heap: int
    indexes: int
    rows_30d: int | None

    @property
    def total(self) -> int:
        return self.heap + self.indexes


# A plain table is its own only leaf; a partitioned one sums its partitions.
_SIZES = """
SELECT c.relname AS name,
       SUM(pg_table_size(leaf.oid))::bigint AS heap,
       SUM(pg_indexes_size(leaf.oid))::bigint AS indexes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
CROSS JOIN LATERAL (
    SELECT relid AS oid FROM pg_partition_tree(c.oid) WHERE isleaf AND c.relkind = 'p'
    UNION ALL SELECT c.oid WHERE c.relkind = 'r'
) AS leaf
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
GROUP BY c.relname
"""


async def measure(database_url: str) -> list[TableSize]:
    """Every table's bytes, largest first."""
    conn = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        meta = await conn.fetchrow("SELECT big_organization_id, data_end FROM bench_meta")
        organization, end = meta["big_organization_id"], meta["data_end"]
        start = end - timedelta(days=30)
        sizes: list[TableSize] = []
        for row in await conn.fetch(_SIZES):
            name = row["name"]
            columns = {
                r["column_name"]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
                    name,
                )
            }
            time_column = next((c for c in ("bucket_start", "timestamp") if c in columns), None)
            rows = None
            if "organization_id" in columns and time_column is not None:
                rows = await conn.fetchval(
                    f'SELECT count(*) FROM {name} WHERE organization_id = $1 AND "{time_column}" '
                    f'>= $2 AND "{time_column}" < $3',
                    organization,
                    start,
                    end,
                )
            sizes.append(TableSize(name, row["heap"], row["indexes"], rows))
    finally:
        await conn.close()
    return sorted(sizes, key=lambda s: s.total, reverse=True)


async def raw_indexes(database_url: str) -> list[tuple[str, int]]:
    """request_log's indexes (all partitions) and their bytes, largest first."""
    conn = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT i.relname AS name, SUM(pg_relation_size(leaf.relid))::bigint AS size "
            "FROM pg_class i CROSS JOIN LATERAL pg_partition_tree(i.oid) AS leaf "
            "WHERE i.relkind = 'I' AND NOT i.relispartition AND i.oid IN "
            "(SELECT indexrelid FROM pg_index WHERE indrelid = 'request_log'::regclass) "
            "AND leaf.isleaf GROUP BY i.relname ORDER BY size DESC"
        )
    finally:
        await conn.close()
    return [(r["name"], int(r["size"])) for r in rows]


def report(sizes: list[TableSize]) -> str:
    lines = [
        "| table | heap MiB | indexes MiB | total MiB | big org's 30 days, rows |",
        "|---|---|---|---|---|",
    ]
    for size in sizes:
        if size.total < MIB:
            continue
        rows = "" if size.rows_30d is None else f"{size.rows_30d:,}"
        lines.append(
            f"| `{size.name}` | {size.heap / MIB:,.1f} | {size.indexes / MIB:,.1f} | "
            f"{size.total / MIB:,.1f} | {rows} |"
        )
    everything = sum(s.total for s in sizes)
    raw = next(s.total for s in sizes if s.name == "request_log")
    lines.append(
        f"\nevery table with its indexes: {everything / MIB:,.1f} MiB; request_log with its "
        f"indexes: {raw / MIB:,.1f} MiB; ratio {everything / raw:.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.table_sizes", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--indexes", action="store_true", help="request_log's indexes too")
    args = parser.parse_args(argv)
    print(report(asyncio.run(measure(args.database_url))))
    if args.indexes:
        for name, size in asyncio.run(raw_indexes(args.database_url)):
            print(f"{name}: {size / MIB:,.1f} MiB")


if __name__ == "__main__":
    main()
