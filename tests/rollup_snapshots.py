"""Every rollup table's rows as plain values, to compare what ingest, the SQL rebuild and
a Python aggregation of the raw logs produce."""

from __future__ import annotations

from ingestion.folding import drain
from ingestion.rollups import ROLLUP_ORDER, FamilyRows, aggregate_family, floor_utc, measures
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.priced_record import PricedRecord
from models.rollup import (
    GRAIN_WIDTHS,
    MEASURE_COLUMNS,
    USAGE_BY_TEAM_END_USER,
    USAGE_BY_TEAM_TAG,
    RollupFamily,
)

# Rows whose measures are all zero carry no information (a reprice can leave them behind).
Snapshot = dict[str, FamilyRows]


async def table_rows(family: RollupFamily, grain: str) -> FamilyRows:
    """(organization, bucket start, *dimensions) -> measures, for one table, once every
    pending row is folded (ingestion/folding.py: rollups folded after the commit)."""
    await drain()
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


def expected_attribution_tables(
    records: list[PricedRecord],
) -> dict[str, dict[tuple[object, ...], list[int]]]:
    """Each tag / end-user table's rows, summed here from the records (independently of
    ingestion.rollups): a request once in each of its tags (untagged: ""), once in its end
    user ("" without one); the team's, with no member."""
    tables: dict[str, dict[tuple[object, ...], list[int]]] = {}
    for grain, width in GRAIN_WIDTHS.items():
        for family, groups_of in (
            (USAGE_BY_TEAM_TAG, lambda r: r.tags or ("",)),
            (USAGE_BY_TEAM_END_USER, lambda r: (r.end_user or "",)),
        ):
            if grain not in family.grains:
                continue
            rows: dict[tuple[object, ...], list[int]] = {}
            for record in records:
                for group in groups_of(record):
                    bucket = floor_utc(record.timestamp, width)
                    key = (record.organization_id, bucket, group)
                    current = rows.setdefault(key, [0] * len(MEASURE_COLUMNS))
                    for i, value in enumerate(measures(record)):
                        current[i] += value
            tables[family.table(grain)] = rows
    return tables
