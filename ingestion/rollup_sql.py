"""The rollups computed in SQL (PostgreSQL): the same rows `ingestion.rollups` computes in
Python, for every family and grain.

Two uses, one definition:
- `rollup_script(source)`: ingest's staged path sums a batch of new raw rows (the staging
  table) into two small batch aggregates, then folds those into every rollup table with
  `INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`, in `ROLLUP_ORDER` and key
  order (text sorted byte-wise, like Python's str order) so both paths lock rollup rows in
  one order;
- `rebuild_statements()`: a bulk load (the benchmark) builds every table from scratch: the
  full rollup's and each latency family's finest grain from `request_log`, every other table
  from a finer or wider one (sums of sums), which reads far fewer rows than scanning the
  raw log once per table.
"""

from __future__ import annotations

from ingestion.rollups import ROLLUP_ORDER
from models.latency_rollup import (
    LATENCY_BY_MODEL_STATUS,
    LATENCY_FAMILIES,
    LATENCY_MEASURES,
    latency_bucket_sql,
)
from models.rollup import (
    ATTRIBUTION_FAMILIES,
    DIMENSION_COLUMNS,
    GRAIN_WIDTHS,
    USAGE_BY_TEAM_TAG,
    USAGE_FAMILIES,
    USAGE_FULL,
    RollupFamily,
)

_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
_INTERVALS = {"quarter": "15 minutes", "hour": "1 hour", "day": "1 day"}
_TEXT_COLUMNS = frozenset({"model", "provider_model", "endpoint", "provider", "tag", "end_user"})
# A raw relation with one row per (request, tag): untagged requests once, with tag "".
_TAG_ROWS = (
    "CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(tags, '[\"\"]'::jsonb)) AS tag_of(value)"
)
# Each measure computed from raw rows; same order and meaning as ingestion.rollups.measures().
_RAW_MEASURES = {
    "requests": "count(*)",
    "successful": "count(*) FILTER (WHERE status_code BETWEEN 200 AND 299)",
    "client_errors": "count(*) FILTER (WHERE status_code BETWEEN 400 AND 499)",
    "server_errors": "count(*) FILTER (WHERE status_code BETWEEN 500 AND 599)",
    "unpriced": "count(*) FILTER (WHERE NOT priced)",
    "input_tokens": "sum(input_tokens)",
    "output_tokens": "sum(output_tokens)",
    "provider_cost_nanos": "sum(provider_cost_nanos)",
    "markup_nanos": "sum(markup_nanos)",
    "fixed_fee_nanos": "sum(fixed_fee_nanos)",
    "customer_cost_nanos": "sum(customer_cost_nanos)",
    "latency_ms_sum": "sum(latency_ms)",
    "cache_read_tokens": "sum(cache_read_tokens)",
    "cache_write_5m_tokens": "sum(cache_write_5m_tokens)",
    "cache_write_1h_tokens": "sum(cache_write_1h_tokens)",
    "reasoning_tokens": "sum(reasoning_tokens)",
    "request_units": "sum(request_units)",
    "input_cost_nanos": "sum(input_cost_nanos)",
    "cache_read_cost_nanos": "sum(cache_read_cost_nanos)",
    "cache_write_cost_nanos": "sum(cache_write_cost_nanos)",
    "output_cost_nanos": "sum(output_cost_nanos)",
    "reasoning_cost_nanos": "sum(reasoning_cost_nanos)",
    "request_cost_nanos": "sum(request_cost_nanos)",
    "cache_savings_nanos": "sum(cache_savings_nanos)",
}


# The raw columns the statements above read: what a fold copies of each pending row.
ROLLUP_SOURCE_COLUMNS = (
    "organization_id",
    "timestamp",
    *DIMENSION_COLUMNS,
    "priced",
    "tags",
    "end_user",
    # sum(input_tokens) -> input_tokens, ..., sum(latency_ms) -> latency_ms
    *(summed[4:-1] for summed in _RAW_MEASURES.values() if summed.startswith("sum(")),
)


def _raw_dimension(column: str) -> str:
    if column == "member_id":
        return "COALESCE(member_id, 0)"
    if column == "latency_bucket":
        return latency_bucket_sql("latency_ms")
    if column == "tag":
        return "tag_of.value"
    if column == "end_user":
        return "COALESCE(end_user, '')"
    return column


def _sortable(expression: str, column: str) -> str:
    return f'{expression} COLLATE "C"' if column in _TEXT_COLUMNS else expression


def _insert(
    family: RollupFamily,
    grain: str,
    keys: list[str],
    values: list[str],
    source: str,
    *,
    upsert: bool,
) -> str:
    table = family.table(grain)
    columns = (*family.key_columns, *family.measures)
    order = ", ".join(_sortable(k, c) for k, c in zip(keys, family.key_columns, strict=True))
    group = ", ".join(str(i) for i in range(1, len(keys) + 1))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(keys)}, {', '.join(values)} FROM {source} GROUP BY {group}"
    )
    if not upsert:
        # Rows laid out in time order, as ingest appends them over time.
        return f"{sql} ORDER BY 2"
    if upsert:
        # Key order: concurrent batches lock rows in one order.
        updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in family.measures)
        sql += (
            f" ORDER BY {order} ON CONFLICT ({', '.join(family.key_columns)}) "
            f"DO UPDATE SET {updates}"
        )
    return sql


def rollup_from_raw_sql(
    family: RollupFamily, grain: str, source: str, *, upsert: bool = True
) -> str:
    """INSERT adding the rows of `source` (a relation with request_log's columns) into
    `family`'s table at `grain`; with `upsert`, existing rows are incremented."""
    keys = [
        "organization_id",
        f"date_bin('{_INTERVALS[grain]}', timestamp, {_EPOCH})",
        *(_raw_dimension(c) for c in family.dimensions),
    ]
    values = [_RAW_MEASURES[m] for m in family.measures]
    if "tag" in family.dimensions:
        source = f"{source} {_TAG_ROWS}"
    return _insert(family, grain, keys, values, source, upsert=upsert)


def rollup_from_rollup_sql(
    family: RollupFamily,
    grain: str,
    source_family: RollupFamily,
    source_grain: str,
    *,
    upsert: bool = False,
) -> str:
    """INSERT adding `source_family`'s table at `source_grain` (a finer or wider rollup:
    its dimensions must include the family's, its grain be no coarser) into `family`'s
    table at `grain`; with `upsert`, existing rows are incremented (else the target is
    expected empty)."""
    missing = set(family.dimensions) - set(source_family.dimensions)
    if missing or GRAIN_WIDTHS[source_grain] > GRAIN_WIDTHS[grain]:
        raise ValueError(f"{family.table(grain)} cannot be built from {source_family.name}")
    keys = [
        "organization_id",
        f"date_bin('{_INTERVALS[grain]}', bucket_start, {_EPOCH})",
        *family.dimensions,
    ]
    values = [f"sum({m})" for m in family.measures]
    return _insert(family, grain, keys, values, source_family.table(source_grain), upsert=upsert)


# A batch's new rows summed once per quarter and every usage dimension, and per hour, model,
# status and latency bucket: each rollup table is a projection of one of these, so the
# batch's raw rows are read (and their latency buckets computed) twice instead of once per
# table. Temporary tables of the ingest connection, emptied at commit like the staging table.
BATCH_USAGE = RollupFamily(
    "ingest_batch_usage",
    DIMENSION_COLUMNS,
    # The finest grain any usage family keeps (each table is a projection of it).
    grains=(min((f.grains[0] for f in USAGE_FAMILIES), key=GRAIN_WIDTHS.__getitem__),),
)
BATCH_LATENCY = RollupFamily(
    "ingest_batch_latency", LATENCY_BY_MODEL_STATUS.dimensions, LATENCY_MEASURES, ("hour",)
)
# The batch's (request, tag) rows summed once per hour and tag: the team tag family at every
# grain it keeps (none finer than an hour) is a projection of it, so the tags of each new
# row are expanded once instead of once per tag table.
BATCH_TAG = RollupFamily("ingest_batch_tag", USAGE_BY_TEAM_TAG.dimensions, grains=("hour",))
BATCH_TABLES = (BATCH_USAGE, BATCH_LATENCY, BATCH_TAG)
_COLUMN_TYPES = {
    "organization_id": "integer",
    "bucket_start": "timestamptz",
    "api_key_id": "integer",
    "member_id": "integer",
    "model": "varchar(100)",
    "provider_model": "varchar(100)",
    "endpoint": "varchar(200)",
    "status_code": "smallint",
    "provider": "varchar(50)",
    "latency_bucket": "smallint",
    "tag": "text",
}


def create_batch_tables_sql() -> str:
    """CREATE TEMPORARY TABLE IF NOT EXISTS for the batch aggregates (ON COMMIT DELETE ROWS)."""
    statements = []
    for family in BATCH_TABLES:
        columns = [f"{c} {_COLUMN_TYPES[c]} NOT NULL" for c in family.key_columns]
        columns += [f"{m} bigint NOT NULL" for m in family.measures]
        statements.append(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {family.table(family.grains[0])} "
            f"({', '.join(columns)}) ON COMMIT DELETE ROWS"
        )
    return ";\n".join(statements)


def rollup_script(source: str) -> str:
    """Every rollup upsert for the rows of `source`, in ROLLUP_ORDER, as one script (one
    round trip: rollup rows stay locked until commit, so round trips inside the locked part
    of a transaction make concurrent batches wait longer). `source` is summed into the
    batch aggregates first (`create_batch_tables_sql()` must have run on the connection);
    every table is upserted from one of them."""
    statements = [
        rollup_from_raw_sql(batch, batch.grains[0], source, upsert=False) for batch in BATCH_TABLES
    ]
    for family, grain in ROLLUP_ORDER:
        batch = _batch_source(family, grain)
        if batch is None:
            # End users are not in the batch aggregates: summed from the new rows.
            statements.append(rollup_from_raw_sql(family, grain, source, upsert=True))
            continue
        statements.append(
            rollup_from_rollup_sql(family, grain, batch, batch.grains[0], upsert=True)
        )
    return ";\n".join(statements)


def _batch_source(family: RollupFamily, grain: str) -> RollupFamily | None:
    """The batch aggregate `family`'s table at `grain` is a projection of, if any."""
    if family in LATENCY_FAMILIES:
        return BATCH_LATENCY
    if family not in ATTRIBUTION_FAMILIES:
        return BATCH_USAGE
    if set(family.dimensions) <= set(BATCH_TAG.dimensions) and (
        GRAIN_WIDTHS[grain] >= GRAIN_WIDTHS[BATCH_TAG.grains[0]]
    ):
        return BATCH_TAG
    return None


def rebuild_statements(raw: str = "request_log") -> list[list[str]]:
    """Statements filling every (empty) rollup table from the raw log, in stages: the
    statements of one stage are independent of each other (they may run concurrently);
    each stage reads only tables built by earlier ones."""
    sources = _rebuild_sources()
    depth: dict[tuple[RollupFamily, str], int] = {}

    def level(target: tuple[RollupFamily, str]) -> int:
        if target not in depth:
            source = sources[target]
            depth[target] = 0 if source is None else level(source) + 1
        return depth[target]

    stages: list[list[str]] = [[] for _ in range(max(level(t) for t in ROLLUP_ORDER) + 1)]
    for family, grain in ROLLUP_ORDER:
        source = sources[(family, grain)]
        stages[level((family, grain))].append(
            rollup_from_raw_sql(family, grain, raw, upsert=False)
            if source is None
            else rollup_from_rollup_sql(family, grain, *source)
        )
    return stages


def _rebuild_sources() -> dict[tuple[RollupFamily, str], tuple[RollupFamily, str] | None]:
    """Where each table is built from: its family's next finer grain; else, at the same
    grain, the smallest wider usage family keeping that grain (for the usage cubes); else
    the raw log (None: the full rollup, the latency families, the tag and end-user families
    and a cube's finest grain that no wider family keeps)."""
    sources: dict[tuple[RollupFamily, str], tuple[RollupFamily, str] | None] = {}
    for family, grain in ROLLUP_ORDER:
        position = family.grains.index(grain)
        if position > 0:
            sources[(family, grain)] = (family, family.grains[position - 1])
        elif family is USAGE_FULL or family in LATENCY_FAMILIES or family in ATTRIBUTION_FAMILIES:
            sources[(family, grain)] = None
        else:
            # A wider family keeping the grain (the full rollup keeps no QUARTER); else the
            # raw log.
            wider = next(
                (
                    f
                    for f in USAGE_FAMILIES
                    if f is not family
                    and set(family.dimensions) < set(f.dimensions)
                    and grain in f.grains
                ),
                None,
            )
            sources[(family, grain)] = None if wider is None else (wider, grain)
    return sources
