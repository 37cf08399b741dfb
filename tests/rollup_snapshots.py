"""Every rollup table's rows as plain values, to compare what ingest, the SQL rebuild and
a Python aggregation of the raw logs produce."""

from __future__ import annotations

from ingestion.records import PricedRecord
from ingestion.rollups import ROLLUP_ORDER, FamilyRows, aggregate_family
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.rollup import RollupFamily

# Rows whose measures are all zero carry no information (a reprice can leave them behind).
Snapshot = dict[str, FamilyRows]


async def table_rows(family: RollupFamily, grain: str) -> FamilyRows:
    """(organization, bucket start, *dimensions) -> measures, for one table."""
    params = Params(current_dialect())
    rows = await fetch_all(f"SELECT * FROM {family.table(grain)}", params)
    found: FamilyRows = {}
    for row in rows:
        values = [int(row[m]) for m in family.measures]
        if any(values):
            key = (
                int(row["organization_id"]),
                parse_db_datetime(row["bucket_start"]),
                *(row[d] for d in family.dimensions),
            )
            found[key] = values
    return found


async def snapshot() -> Snapshot:
    """Every rollup table, by name."""
    return {family.table(grain): await table_rows(family, grain) for family, grain in ROLLUP_ORDER}


def expected_snapshot(records: list[PricedRecord]) -> Snapshot:
    """What every rollup table must hold for exactly these records."""
    return {
        family.table(grain): aggregate_family(records, family, grain)
        for family, grain in ROLLUP_ORDER
    }
