"""The request_log row, declared once: every column ingest writes and how the API shows it.

`LOG_ROW` lists the columns (all but `id` and `ingested_at`) in the order the API shows
them (the export's column order), each with its public name (the GraphQL field and the
export header) and how its value is presented. The Tortoise model (models/request_log.py)
keeps what the database stores — each column's type, nullability and default — because
the ORM, the migrations and mypy read the model; `column_sql` derives a column's SQL type
from it. Derived from these two, never restated: ingest's row and its COPY/INSERT column
order (ingestion/log_row.py), the PostgreSQL staging table (ingestion/staged_insert.py), the
columns a log page selects and how it reads them (resolvers/log_pages.py), the export's
columns, headers and cells (exports/request_logs.py).

The typed classes keep their own attribute lists, checked against LOG_ROW by
tests/test_request_log_columns.py both ways (with the model and the live table on either
backend): PricedRecord, LogRecord (in LOG_ROW's order) and the GraphQL RequestLog type,
whose fields carry the schema's descriptions and stay plain data fields for the executor.
Migrations are history and keep their own lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from models.request_log import RequestLog

if TYPE_CHECKING:
    from models.database import Dialect


class Shown(Enum):
    """How the API presents a column's value (GraphQL and exports alike)."""

    HIDDEN = "hidden"  # not shown: organization_id, which the scope decides
    UUID = "uuid"  # as its text
    INSTANT = "instant"  # an aware UTC datetime (RFC 3339 in exports)
    API_KEY = "api_key"  # the key's global id (exports add its label; GraphQL the key)
    MEMBER = "member"  # the member's global id or null (exports add the name)
    TEXT = "text"  # text from users or the gateway (neutralized in CSV)
    COUNT = "count"  # an integer
    MONEY = "money"  # nano-USD, shown as USD
    FLAG = "flag"  # a boolean
    JSON = "json"  # a JSON value (metadata)
    TAGS = "tags"  # the stored tags, a list of strings
    BODY = "body"  # text shown only when the organization keeps bodies


@dataclass(frozen=True, slots=True)
class LogColumn:
    # The request_log column, and the attribute of the same value on PricedRecord and
    # LogRecord.
    name: str
    shown: Shown
    # The GraphQL field and export header (camelCase); "" for a hidden column.
    api_name: str = ""


def _col(name: str, shown: Shown, api_name: str | None = None) -> LogColumn:
    """A column; its public name defaults to the camelCase of its name."""
    if api_name is None and shown is not Shown.HIDDEN:
        head, *rest = name.split("_")
        api_name = head + "".join(word.capitalize() for word in rest)
    return LogColumn(name, shown, api_name or "")


LOG_ROW: tuple[LogColumn, ...] = (
    _col("request_id", Shown.UUID),
    _col("organization_id", Shown.HIDDEN),
    _col("timestamp", Shown.INSTANT),
    _col("api_key_id", Shown.API_KEY),
    _col("member_id", Shown.MEMBER),
    _col("model", Shown.TEXT),
    _col("provider_model", Shown.TEXT),
    _col("provider", Shown.TEXT),
    _col("endpoint", Shown.TEXT),
    _col("input_tokens", Shown.COUNT),
    _col("output_tokens", Shown.COUNT),
    _col("total_tokens", Shown.COUNT),
    _col("provider_cost_nanos", Shown.MONEY, "providerCost"),
    _col("markup_nanos", Shown.MONEY, "markup"),
    _col("fixed_fee_nanos", Shown.MONEY, "fixedFee"),
    _col("customer_cost_nanos", Shown.MONEY, "customerCost"),
    _col("priced", Shown.FLAG),
    _col("latency_ms", Shown.COUNT),
    _col("status_code", Shown.COUNT),
    _col("error_message", Shown.TEXT),
    _col("metadata", Shown.JSON),
    # Token classes in the canonical meaning (docs/readme/pricing.md), then the provider
    # cost per class and what caching saved (migration 0017; 0 on older rows).
    _col("cache_read_tokens", Shown.COUNT),
    _col("cache_write_5m_tokens", Shown.COUNT, "cacheWrite5mTokens"),
    _col("cache_write_1h_tokens", Shown.COUNT, "cacheWrite1hTokens"),
    _col("reasoning_tokens", Shown.COUNT),
    _col("request_units", Shown.COUNT),
    _col("input_cost_nanos", Shown.MONEY, "uncachedInputCost"),
    _col("cache_read_cost_nanos", Shown.MONEY, "cacheReadCost"),
    _col("cache_write_cost_nanos", Shown.MONEY, "cacheWriteCost"),
    _col("output_cost_nanos", Shown.MONEY, "nonReasoningOutputCost"),
    _col("reasoning_cost_nanos", Shown.MONEY, "reasoningCost"),
    _col("request_cost_nanos", Shown.MONEY, "requestCost"),
    _col("cache_savings_nanos", Shown.MONEY, "cacheSavings"),
    _col("tags", Shown.TAGS),
    _col("end_user", Shown.TEXT),
    _col("request_body", Shown.BODY),
    _col("response_body", Shown.BODY),
)

# The names, in LOG_ROW's order.
ROW_NAMES = tuple(column.name for column in LOG_ROW)
# The token-class and cost-class columns added by migration 0017 (0 on older rows).
CLASS_COLUMNS = ROW_NAMES[
    ROW_NAMES.index("cache_read_tokens") : ROW_NAMES.index("cache_savings_nanos") + 1
]
# The columns request_log has besides LOG_ROW's, no part of a log's row: the id from its
# sequence, ingested_at the time of the insert.
STORED_ONLY = ("id", "ingested_at")


def column_sql(name: str, dialect: Dialect) -> str:
    """The column's type and nullability as `CREATE TABLE` writes them, from the model
    (its foreign-key columns exist only once Tortoise is initialised)."""
    field = RequestLog._meta.fields_map[name]
    sql_type = field.get_for_dialect(dialect.value, "SQL_TYPE")
    return f"{sql_type}{'' if field.null else ' NOT NULL'}"
