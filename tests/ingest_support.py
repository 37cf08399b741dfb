"""Helpers for the ingest tests: gateway records as JSON, posting them, and exact checks
that rollups, wallet and spend counters equal a scan of the raw logs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from ingestion.folding import drain
from ingestion.rollups import ROLLUP_TABLES, aggregate
from models.api_key import ApiKey
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.priced_record import PricedRecord
from models.rollup import ATTRIBUTION_FAMILIES, DIMENSION_COLUMNS, MEASURE_COLUMNS
from resolvers.log_pages import LogRecord
from tests.rollup_snapshots import expected_attribution_tables, table_rows


def gateway_record(key: ApiKey, **fields: Any) -> dict[str, Any]:
    """A valid record as the gateway sends it (camelCase), for the key; fields override."""
    record: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "timestamp": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        "apiKeyPrefix": key.prefix,
        "model": "gpt-4",
        "providerModel": "gpt-4-0613",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1000,
        "outputTokens": 500,
        "latencyMs": 1200,
        "statusCode": 200,
    }
    record.update(fields)
    return {name: value for name, value in record.items() if value is not None}


def json_lines(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


async def post_bulk(
    client: httpx.AsyncClient, token: str | None, body: bytes | list[dict[str, Any]]
) -> httpx.Response:
    content = json_lines(body) if isinstance(body, list) else body
    headers = {"Content-Type": "application/x-ndjson"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/ingest/bulk", content=content, headers=headers)


async def stored_records(organization_id: int) -> list[PricedRecord]:
    """Every stored log of the organization, as PricedRecords."""
    params = Params(current_dialect())
    rows = await fetch_all(
        "SELECT * FROM request_log WHERE organization_id = "
        f"{params.add(organization_id)} ORDER BY request_id",
        params,
    )
    logs = [(int(row["organization_id"]), LogRecord.from_row(row)) for row in rows]
    return [
        PricedRecord(
            organization_id=organization,
            **{name: getattr(log, name) for name in _RECORD_FIELDS},
        )
        for organization, log in logs
    ]


# What a PricedRecord holds besides its organization, all read into a LogRecord.
_RECORD_FIELDS = tuple(
    name for name in PricedRecord.__dataclass_fields__ if name != "organization_id"
)


async def assert_rollups_match_raw_scan(organization_id: int) -> None:
    """Every rollup table holds exactly what aggregating the raw logs gives, row by row,
    once every pending row is folded (ingestion/folding.py)."""
    await drain()
    records = await stored_records(organization_id)
    for table, width in ROLLUP_TABLES.items():
        expected = {key: values for key, values in aggregate(records, width).items()}
        params = Params(current_dialect())
        rows = await fetch_all(
            f"SELECT * FROM {table} WHERE organization_id = {params.add(organization_id)}",
            params,
        )
        actual = {
            (
                int(row["organization_id"]),
                (parse_db_datetime(row["bucket_start"]), *(row[c] for c in DIMENSION_COLUMNS)),
            ): [int(row[m]) for m in MEASURE_COLUMNS]
            for row in rows
        }
        assert actual == expected, table
    for family in ATTRIBUTION_FAMILIES:
        for grain in family.grains:
            rows_of = await table_rows(family, grain)
            stored = {k: v for k, v in rows_of.items() if k[0] == organization_id}
            assert stored == expected_attribution_tables(records)[family.table(grain)]


async def spend_totals(organization_id: int) -> tuple[int, int]:
    """(spend nano-USD, requests) summed over the organization's own counters (key 0)."""
    params = Params(current_dialect())
    rows = await fetch_all(
        "SELECT COALESCE(SUM(spend_nanos), 0) AS spend, COALESCE(SUM(requests), 0) AS requests "
        f"FROM spend_counter WHERE organization_id = {params.add(organization_id)} "
        "AND api_key_id = 0",
        params,
    )
    return int(rows[0]["spend"]), int(rows[0]["requests"])


async def usage_entries_total(organization_id: int) -> int:
    """Sum of the organization's USAGE wallet entries (negative nano-USD)."""
    params = Params(current_dialect())
    rows = await fetch_all(
        "SELECT COALESCE(SUM(amount_nanos), 0) AS total FROM wallet_entry "
        f"WHERE organization_id = {params.add(organization_id)} AND kind = 'USAGE'",
        params,
    )
    return int(rows[0]["total"])
