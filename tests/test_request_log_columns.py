"""The request_log row is declared once (models/request_log_columns.py LOG_ROW): the model,
the live table on either backend, the ingest records, the log pages' records, the export and
the GraphQL type all hold exactly its columns, so a column added in one place and not the
others fails here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from graphql import GraphQLObjectType, build_schema

from exports.request_logs import BODY_COLUMNS, LOG_COLUMNS
from graph.schema import schema
from ingestion.log_row import LOG_COLUMNS as INGEST_COLUMNS
from ingestion.log_row import log_row
from ingestion.staged_insert import stage_and_claim
from models.database import Dialect, Params, connection, current_dialect, fetch_all
from models.priced_record import PricedRecord
from models.request_log import RequestLog
from models.request_log_columns import (
    CLASS_COLUMNS,
    LOG_ROW,
    ROW_NAMES,
    STORED_ONLY,
    Shown,
    column_sql,
)
from resolvers.log_pages import PAGE_COLUMNS, RECORD_COLUMNS, LogRecord

SHOWN = tuple(column for column in LOG_ROW if column.shown is not Shown.HIDDEN)


def test_the_declaration_lists_each_column_once() -> None:
    assert len(set(ROW_NAMES)) == len(ROW_NAMES) == 37
    assert not set(STORED_ONLY) & set(ROW_NAMES)
    assert len({column.api_name for column in SHOWN}) == len(SHOWN)
    assert [column.name for column in LOG_ROW if column.shown is Shown.HIDDEN] == [
        "organization_id"
    ]


async def test_the_model_has_exactly_the_declared_columns(db: object) -> None:
    # The foreign-key columns exist once Tortoise is initialised (the `db` fixture).
    model_columns = set(RequestLog._meta.fields_db_projection.values())

    assert model_columns == {*ROW_NAMES, *STORED_ONLY}


async def test_the_live_table_has_exactly_the_declared_columns_and_the_models_types(
    db: object,
) -> None:
    dialect = current_dialect()
    if dialect is Dialect.SQLITE:
        rows = await fetch_all(
            "SELECT name, type, \"notnull\" AS not_null FROM pragma_table_info('request_log')",
            Params(dialect),
        )
        live = {row["name"]: (row["type"], bool(row["not_null"])) for row in rows}
    else:
        rows = await fetch_all(
            "SELECT attname AS name, upper(format_type(atttypid, atttypmod)) AS type, "
            "attnotnull AS not_null FROM pg_attribute WHERE attrelid = 'request_log'::regclass "
            "AND attnum > 0 AND NOT attisdropped",
            Params(dialect),
        )
        live = {row["name"]: (row["type"], row["not_null"]) for row in rows}

    assert set(live) == {*ROW_NAMES, *STORED_ONLY}
    declared = {name: column_sql(name, dialect) for name in ROW_NAMES}
    assert {name: f"{t}{' NOT NULL' if n else ''}" for name, (t, n) in live.items()} == {
        **{name: _as_catalog_names(sql, dialect) for name, sql in declared.items()},
        **{name: live_sql for name, live_sql in _stored_only(live).items()},
    }


def _as_catalog_names(sql: str, dialect: Dialect) -> str:
    """A model's SQL type as the backend's catalog spells it."""
    if dialect is Dialect.SQLITE:
        return sql
    spelled = {
        "VARCHAR": "CHARACTER VARYING",
        "BOOL": "BOOLEAN",
        "INT": "INTEGER",
        "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    }
    sql_type, _, rest = sql.partition(" ")
    base, paren, size = sql_type.partition("(")
    return " ".join(filter(None, (spelled.get(base, base) + paren + size, rest)))


def _stored_only(live: dict[str, tuple[str, bool]]) -> dict[str, str]:
    return {name: f"{live[name][0]}{' NOT NULL' if live[name][1] else ''}" for name in STORED_ONLY}


@pytest.mark.postgres_only
async def test_the_staging_table_has_request_logs_columns_and_types(db: object) -> None:
    """PostgreSQL's ingest stages each batch in a temporary table built from the declaration;
    it holds the same columns with the same types as request_log."""
    query = (
        "SELECT attname AS name, format_type(atttypid, atttypmod) AS type "
        "FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"
    )
    async with connection().acquire_connection() as raw, raw.transaction():
        assert await stage_and_claim(raw, []) == set()
        staging = [tuple(r) for r in await raw.fetch(query.format(table="ingest_staging"))]
        live = {r["name"]: r["type"] for r in await raw.fetch(query.format(table="request_log"))}

    assert staging == [(name, live[name]) for name in INGEST_COLUMNS]


def test_ingest_writes_every_declared_column_from_the_record_of_its_name() -> None:
    record = PricedRecord(
        request_id=uuid.UUID(int=7),
        organization_id=1,
        api_key_id=2,
        member_id=3,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        model="gpt-4",
        provider_model="gpt-4-0613",
        endpoint="/v1/chat/completions",
        input_tokens=1000,
        output_tokens=500,
        provider_cost_nanos=11,
        markup_nanos=12,
        fixed_fee_nanos=13,
        customer_cost_nanos=36,
        priced=False,
        latency_ms=1200,
        status_code=429,
        provider="openai",
        error_message="slow down",
        metadata={"b": 1, "a": [2]},
        request_body="in",
        response_body="out",
        **{name: 100 + i for i, name in enumerate(CLASS_COLUMNS)},
        tags=("feature:chat", "team:search"),
        end_user="user-1",
    )

    row = dict(zip(INGEST_COLUMNS, log_row(record), strict=True))

    assert INGEST_COLUMNS == ROW_NAMES
    assert set(PricedRecord.__dataclass_fields__) == set(ROW_NAMES) - {"total_tokens"}
    assert row == {
        **{name: getattr(record, name) for name in ROW_NAMES},
        "total_tokens": 1500,
        "metadata": '{"a":[2],"b":1}',
        "tags": '["feature:chat","team:search"]',
    }
    assert log_row(PricedRecord(**{**_fields(record), "metadata": None, "tags": ()}))[
        ROW_NAMES.index("metadata") :: ROW_NAMES.index("tags") - ROW_NAMES.index("metadata")
    ] == (None, None)


def _fields(record: PricedRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in PricedRecord.__dataclass_fields__}


def test_a_log_page_reads_every_shown_column_into_its_record() -> None:
    assert ("id", *ROW_NAMES) == PAGE_COLUMNS
    assert tuple(column.name for column in SHOWN) == RECORD_COLUMNS
    assert tuple(LogRecord.__dataclass_fields__) == ("id", *RECORD_COLUMNS)


def test_the_export_has_a_column_per_shown_column_under_its_public_name() -> None:
    # Exactly the headers exports have always had, in their order.
    assert [column.name for column in LOG_COLUMNS + BODY_COLUMNS] == [
        "requestId",
        "timestamp",
        "apiKeyId",
        "apiKeyLabel",
        "memberId",
        "memberName",
        "model",
        "providerModel",
        "provider",
        "endpoint",
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "providerCost",
        "markup",
        "fixedFee",
        "customerCost",
        "priced",
        "latencyMs",
        "statusCode",
        "errorMessage",
        "metadata",
        "cacheReadTokens",
        "cacheWrite5mTokens",
        "cacheWrite1hTokens",
        "reasoningTokens",
        "requestUnits",
        "uncachedInputCost",
        "cacheReadCost",
        "cacheWriteCost",
        "nonReasoningOutputCost",
        "reasoningCost",
        "requestCost",
        "cacheSavings",
        "tags",
        "endUser",
        "requestBody",
        "responseBody",
    ]
    assert {column.name for column in LOG_COLUMNS + BODY_COLUMNS} == {
        column.api_name for column in SHOWN
    } | {"apiKeyLabel", "memberName"}


def test_the_graphql_type_has_a_field_per_shown_column_of_its_kind() -> None:
    graphql_type = build_schema(schema.as_str()).type_map["RequestLog"]
    assert isinstance(graphql_type, GraphQLObjectType)
    kinds = {
        Shown.UUID: "ID!",
        Shown.INSTANT: "DateTime!",
        Shown.API_KEY: "ApiKey",
        Shown.MEMBER: "Member",
        Shown.COUNT: "Int!",
        Shown.MONEY: "Decimal!",
        Shown.FLAG: "Boolean!",
        Shown.JSON: "JSON",
        Shown.TAGS: "[String!]!",
        Shown.BODY: "String",
    }
    # The key and the member are shown as objects, not ids.
    objects = {"apiKeyId": "apiKey", "memberId": "member"}

    expected = {
        objects.get(column.api_name, column.api_name): kinds.get(
            column.shown, "String" if RequestLog._meta.fields_map[column.name].null else "String!"
        )
        for column in SHOWN
    }

    assert {name: str(field.type) for name, field in graphql_type.fields.items()} == {
        "id": "ID!",
        **expected,
    }
