"""Rollup maintenance: fold written records into every rollup family at every grain.

Called inside the ingest transaction, with only the records that were newly inserted, so a
resent record never counts twice. The families (the full usage rollup, the narrower usage
cubes, the latency histograms and the tag and end-user families, see models.rollup and
models.latency_rollup) are written in one fixed order, `ROLLUP_ORDER`, and each table's
rows in key order, so concurrent batches lock rollup rows in the same order and cannot
deadlock. PostgreSQL's staged ingest computes the same rows in SQL (ingestion.rollup_sql);
both follow this order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from tortoise.backends.base.client import BaseDBAsyncClient

from models.attribution import NO_END_USER, NO_TAG
from models.database import Params, dialect_of
from models.latency_rollup import LATENCY_FAMILIES, latency_bucket
from models.priced_record import PricedRecord
from models.rollup import (
    ATTRIBUTION_FAMILIES,
    GRAIN_WIDTHS,
    MEASURE_COLUMNS,
    TAG_FAMILIES,
    USAGE_FAMILIES,
    USAGE_FULL,
    RollupFamily,
)

# Every rollup table, in the order both ingest paths write them.
_WRITE_FAMILIES = (
    USAGE_FULL,
    *(family for family in USAGE_FAMILIES if family is not USAGE_FULL),
    *LATENCY_FAMILIES,
    *ATTRIBUTION_FAMILIES,
)
ROLLUP_ORDER: tuple[tuple[RollupFamily, str], ...] = tuple(
    (family, grain) for family in _WRITE_FAMILIES for grain in family.grains
)
# The full usage rollup's tables and bucket widths.
ROLLUP_TABLES: dict[str, timedelta] = {
    USAGE_FULL.table(grain): GRAIN_WIDTHS[grain] for grain in USAGE_FULL.grains
}
# Keep each statement under SQLite's bound-variable limit (32766).
_ROWS_PER_STATEMENT = 1000
# Where each dimension sits in an atom key (after organization and quarter start).
_ATOM_POSITIONS = {
    "api_key_id": 0,
    "member_id": 1,
    "model": 2,
    "provider_model": 3,
    "endpoint": 4,
    "status_code": 5,
    "provider": 6,
    "latency_bucket": 7,
}

RollupKey = tuple[datetime, int, int, str, str, str, int, str]
# (organization, bucket start, *dimension values) -> measures
FamilyRows = dict[tuple[object, ...], list[int]]


def floor_utc(instant: datetime, width: timedelta) -> datetime:
    """Start of the UTC bucket of `width` (15 min, 1 h or 1 day) containing the instant."""
    epoch = datetime(1970, 1, 1, tzinfo=instant.tzinfo)
    return instant - (instant - epoch) % width


def measures(record: PricedRecord) -> tuple[int, ...]:
    """The record's contribution to each MEASURE_COLUMNS column, in order."""
    code = record.status_code
    return (
        1,
        1 if 200 <= code < 300 else 0,
        1 if 400 <= code < 500 else 0,
        1 if 500 <= code < 600 else 0,
        0 if record.priced else 1,
        record.input_tokens,
        record.output_tokens,
        record.provider_cost_nanos,
        record.markup_nanos,
        record.fixed_fee_nanos,
        record.customer_cost_nanos,
        record.latency_ms,
        record.cache_read_tokens,
        record.cache_write_5m_tokens,
        record.cache_write_1h_tokens,
        record.reasoning_tokens,
        record.request_units,
        record.input_cost_nanos,
        record.cache_read_cost_nanos,
        record.cache_write_cost_nanos,
        record.output_cost_nanos,
        record.reasoning_cost_nanos,
        record.request_cost_nanos,
        record.cache_savings_nanos,
    )


def _atoms(records: Iterable[PricedRecord]) -> FamilyRows:
    """Records summed per organization, quarter and every dimension (latency bucket too):
    each family and grain is a projection of these."""
    quarter = GRAIN_WIDTHS["quarter"]
    atoms: FamilyRows = {}
    for record in records:
        key = (
            record.organization_id,
            floor_utc(record.timestamp, quarter),
            record.api_key_id,
            record.member_id or 0,
            record.model,
            record.provider_model,
            record.endpoint,
            record.status_code,
            record.provider,
            latency_bucket(record.latency_ms),
        )
        values = measures(record)
        current = atoms.get(key)
        if current is None:
            atoms[key] = list(values)
        else:
            for i, value in enumerate(values):
                current[i] += value
    return atoms


def _attribution_rows(
    records: Iterable[PricedRecord], family: RollupFamily, width: timedelta
) -> FamilyRows:
    """Records summed per organization, bucket, member (unless the family has none) and tag
    (a request counts once in each of its tags, untagged ones in NO_TAG) or end user
    (NO_END_USER without one)."""
    rows: FamilyRows = {}
    by_tag = family in TAG_FAMILIES
    by_member = "member_id" in family.dimensions
    for record in records:
        bucket = floor_utc(record.timestamp, width)
        values = measures(record)
        groups = (record.tags or (NO_TAG,)) if by_tag else (record.end_user or NO_END_USER,)
        for group in groups:
            key: tuple[object, ...] = (
                (record.organization_id, bucket, record.member_id or 0, group)
                if by_member
                else (record.organization_id, bucket, group)
            )
            current = rows.get(key)
            if current is None:
                rows[key] = list(values)
            else:
                for i, value in enumerate(values):
                    current[i] += value
    return rows


def _project(atoms: FamilyRows, family: RollupFamily, width: timedelta) -> FamilyRows:
    positions = [_ATOM_POSITIONS[d] + 2 for d in family.dimensions]
    # Atom values are in MEASURE_COLUMNS order; the latency families keep two of them.
    picked = (
        None
        if family.measures == MEASURE_COLUMNS
        else [MEASURE_COLUMNS.index(m) for m in family.measures]
    )
    rows: FamilyRows = {}
    for key, values in atoms.items():
        start = key[1]
        assert isinstance(start, datetime)
        bucket = (key[0], floor_utc(start, width), *(key[p] for p in positions))
        contribution = values if picked is None else [values[i] for i in picked]
        current = rows.get(bucket)
        if current is None:
            rows[bucket] = list(contribution)
        else:
            for i, value in enumerate(contribution):
                current[i] += value
    return rows


def aggregate_family(
    records: Iterable[PricedRecord], family: RollupFamily, grain: str
) -> FamilyRows:
    """The rows `records` add to `family`'s table at `grain`:
    (organization, bucket start, *dimensions) -> measures in `family.measures` order."""
    if family in ATTRIBUTION_FAMILIES:
        return _attribution_rows(records, family, GRAIN_WIDTHS[grain])
    return _project(_atoms(records), family, GRAIN_WIDTHS[grain])


def aggregate(
    records: Iterable[PricedRecord], width: timedelta
) -> dict[tuple[int, RollupKey], list[int]]:
    """Sum records per (organization, (bucket and dimensions)) of the full usage rollup."""
    rows = _project(_atoms(records), USAGE_FULL, width)
    return {(cast(int, k[0]), cast(RollupKey, k[1:])): v for k, v in rows.items()}


async def apply_rollups(
    conn: BaseDBAsyncClient, records: list[PricedRecord], sign: int = 1
) -> None:
    """Add (sign=1) or subtract (sign=-1) the records' measures in every rollup table."""
    if not records:
        return
    atoms = _atoms(records)
    for family, grain in ROLLUP_ORDER:
        width = GRAIN_WIDTHS[grain]
        projected = (
            _attribution_rows(records, family, width)
            if family in ATTRIBUTION_FAMILIES
            else _project(atoms, family, width)
        )
        rows = sorted(projected.items(), key=_sort_key)
        await _upsert(conn, family, family.table(grain), rows, sign)


async def _upsert(
    conn: BaseDBAsyncClient,
    family: RollupFamily,
    table: str,
    rows: list[tuple[tuple[object, ...], list[int]]],
    sign: int,
) -> None:
    columns = ", ".join((*family.key_columns, *family.measures))
    conflict = ", ".join(family.key_columns)
    updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in family.measures)
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        params = Params(dialect_of(conn))
        value_rows = []
        for key, values in rows[start : start + _ROWS_PER_STATEMENT]:
            cells = [*key, *(sign * v for v in values)]
            value_rows.append("(" + ", ".join(params.add(c) for c in cells) + ")")
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join(value_rows)} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )
        await conn.execute_query(sql, params.values)


def _sort_key(item: tuple[tuple[object, ...], list[int]]) -> tuple[object, ...]:
    return item[0]
