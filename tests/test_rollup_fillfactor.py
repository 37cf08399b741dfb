"""Migration 0007: every rollup table leaves room for in-place updates (PostgreSQL)."""

from __future__ import annotations

import pytest

from ingestion.rollups import ROLLUP_ORDER
from models.database import Dialect, Params, fetch_all
from settings import Settings

pytestmark = pytest.mark.postgres_only


async def test_every_rollup_table_has_fillfactor_70(db: Settings) -> None:
    tables = sorted(family.table(grain) for family, grain in ROLLUP_ORDER)
    params = Params(Dialect.POSTGRES)
    rows = await fetch_all(
        "SELECT relname, array_to_string(reloptions, ',') AS options FROM pg_class "
        f"WHERE relkind = 'r' AND relname IN ({params.add_list(tables)}) ORDER BY relname",
        params,
    )

    assert [(row["relname"], row["options"]) for row in rows] == [
        (table, "fillfactor=70") for table in tables
    ]
