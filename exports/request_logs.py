"""Request log export rows, streamed in keyset-ordered chunks through the scope.

The rows are exactly those `Organization.requestLogs` pages through for the same filter and
viewer, in the same order (newest first: timestamp DESC, id DESC). Each chunk is one keyset
query of `CHUNK_ROWS` rows on the index that leads with the organization, continuing
strictly after the last row of the previous chunk (the pagination helper's
`keyset_older_than`; never OFFSET), so memory holds one chunk whatever the export's size.
Key labels and member names come from maps loaded once, never from per-row queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from exports.formats import Column, ColumnKind, Row, text
from ingestion.attribution import stored_tags
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.global_ids import encode_global_id
from models.request_log import CLASS_COLUMNS
from models.timestamps import format_instant
from pricing.money import format_usd
from resolvers.log_pages import log_conditions
from resolvers.pagination import KeysetCursor, keyset_older_than
from resolvers.scope import LogFilter, Scope, check_filter

CHUNK_ROWS = 5_000

LOG_COLUMNS: tuple[Column, ...] = (
    Column("requestId"),
    Column("timestamp"),
    Column("apiKeyId"),
    text("apiKeyLabel"),
    Column("memberId"),
    text("memberName"),
    text("model"),
    text("providerModel"),
    text("provider"),
    text("endpoint"),
    Column("inputTokens"),
    Column("outputTokens"),
    Column("totalTokens"),
    Column("providerCost"),
    Column("markup"),
    Column("fixedFee"),
    Column("customerCost"),
    Column("priced"),
    Column("latencyMs"),
    Column("statusCode"),
    text("errorMessage"),
    Column("metadata", ColumnKind.JSON),
    Column("cacheReadTokens"),
    Column("cacheWrite5mTokens"),
    Column("cacheWrite1hTokens"),
    Column("reasoningTokens"),
    Column("requestUnits"),
    Column("uncachedInputCost"),
    Column("cacheReadCost"),
    Column("cacheWriteCost"),
    Column("nonReasoningOutputCost"),
    Column("reasoningCost"),
    Column("requestCost"),
    Column("cacheSavings"),
    # The tags as a JSON array (in CSV its JSON text, e.g. ["feature:chat","team:search"]).
    Column("tags", ColumnKind.JSON),
    text("endUser"),
)
# The token-class counts, then the class costs (nano-USD) after them, as LOG_COLUMNS ends.
_CLASS_COUNTS = CLASS_COLUMNS[:5]
_CLASS_COSTS = CLASS_COLUMNS[5:]
BODY_COLUMNS: tuple[Column, ...] = (text("requestBody"), text("responseBody"))

_SELECT = (
    "id, request_id, timestamp, api_key_id, member_id, model, provider_model, provider, "
    "endpoint, "
    "input_tokens, output_tokens, total_tokens, provider_cost_nanos, markup_nanos, "
    "fixed_fee_nanos, customer_cost_nanos, priced, latency_ms, status_code, error_message, "
    "metadata, tags, end_user, " + ", ".join(CLASS_COLUMNS)
)


# id -> (global id, label or name), loaded once per export.
_Names = dict[int, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class LogExport:
    """An export ready to stream: its columns, and its rows chunk by chunk."""

    columns: tuple[Column, ...]
    chunks: AsyncIterator[list[Row]]


async def request_log_export(
    scope: Scope,
    log_filter: LogFilter,
    *,
    include_bodies: bool,
    search: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> LogExport:
    """The viewer's request logs matching the filter and the search text if any (as
    `requestLogs(filter, search)`), newest first, as export rows (money
    as plain USD strings, timestamps RFC 3339 in UTC with 6 fractional digits, ids global
    as in the API).

    Bodies are included only with `include_bodies` (the organization keeps them). Raises
    ForbiddenError at once when the filter reaches outside the scope; nothing is read from
    request_log until the chunks are iterated.
    """
    check_filter(scope, log_filter)
    keys = {
        key_id: (encode_global_id("ApiKey", key_id), label)
        for key_id, label in await scope.api_keys(include_team_keys=True).values_list("id", "label")
    }
    members = {
        member_id: (encode_global_id("Member", member_id), name)
        for member_id, name in await scope.members().values_list("id", "name")
    }
    columns = LOG_COLUMNS + (BODY_COLUMNS if include_bodies else ())
    chunks = _chunks(scope, log_filter, search, include_bodies, chunk_rows, keys, members)
    return LogExport(columns, chunks)


async def _chunks(
    scope: Scope,
    log_filter: LogFilter,
    search: str | None,
    include_bodies: bool,
    chunk_rows: int,
    keys: _Names,
    members: _Names,
) -> AsyncIterator[list[Row]]:
    select = _SELECT + (", request_body, response_body" if include_bodies else "")
    after: KeysetCursor | None = None
    while True:
        params = Params(current_dialect())
        conditions = log_conditions(scope, log_filter, search, params)
        if after is not None:
            conditions.append(keyset_older_than(after, params))
        sql = (
            f"SELECT {select} FROM request_log WHERE {' AND '.join(conditions)} "
            f"ORDER BY timestamp DESC, id DESC LIMIT {params.add(chunk_rows)}"
        )
        rows = await fetch_all(sql, params, may_lag=True)
        if not rows:
            return
        yield [_row(row, include_bodies, keys, members) for row in rows]
        if len(rows) < chunk_rows:
            return
        last = rows[-1]
        # The cursor keeps the timestamp exactly as the database compared it.
        after = KeysetCursor(timestamp=parse_db_datetime(last["timestamp"]), id=int(last["id"]))


def _row(row: dict[str, Any], include_bodies: bool, keys: _Names, members: _Names) -> Row:
    key_id = int(row["api_key_id"])
    key_gid, key_label = keys.get(key_id) or (encode_global_id("ApiKey", key_id), None)
    member_gid: str | None = None
    member_name: str | None = None
    if row["member_id"] is not None:
        member_id = int(row["member_id"])
        member_gid, member_name = members.get(member_id) or (
            encode_global_id("Member", member_id),
            None,
        )
    cells: list[object] = [
        str(row["request_id"]),
        format_instant(parse_db_datetime(row["timestamp"])),
        key_gid,
        key_label,
        member_gid,
        member_name,
        row["model"],
        row["provider_model"],
        row["provider"],
        row["endpoint"],
        int(row["input_tokens"]),
        int(row["output_tokens"]),
        int(row["total_tokens"]),
        format_usd(int(row["provider_cost_nanos"])),
        format_usd(int(row["markup_nanos"])),
        format_usd(int(row["fixed_fee_nanos"])),
        format_usd(int(row["customer_cost_nanos"])),
        bool(row["priced"]),
        int(row["latency_ms"]),
        int(row["status_code"]),
        row["error_message"],
        _json_value(row["metadata"]),
        *(int(row[column]) for column in _CLASS_COUNTS),
        *(format_usd(int(row[column])) for column in _CLASS_COSTS),
        list(stored_tags(row["tags"])),
        row["end_user"],
    ]
    if include_bodies:
        cells += [row["request_body"], row["response_body"]]
    return cells


def _json_value(value: object) -> object:
    """A JSON column as read back by either driver (text on SQLite and from asyncpg)."""
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value
