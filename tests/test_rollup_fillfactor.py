"""Migration 0007 left 30% of every rollup page free for in-place updates; migration 0027
fills them again (folding deferred, rows of closed buckets are never updated): no rollup
table has a fillfactor of its own (PostgreSQL)."""

from __future__ import annotations

import pytest

from ingestion.rollups import ROLLUP_ORDER
from models.database import Dialect, Params, fetch_all
from settings import Settings

pytestmark = pytest.mark.postgres_only


async def test_no_rollup_table_keeps_pages_half_empty(db: Settings) -> None:
    tables = sorted(family.table(grain) for family, grain in ROLLUP_ORDER)
    params = Params(Dialect.POSTGRES)
    rows = await fetch_all(
        "SELECT relname, array_to_string(reloptions, ',') AS options FROM pg_class "
        f"WHERE relkind = 'r' AND relname IN ({params.add_list(tables)}) ORDER BY relname",
        params,
    )

    assert [(row["relname"], row["options"]) for row in rows] == [(table, None) for table in tables]
