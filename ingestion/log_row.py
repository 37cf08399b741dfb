"""One request log as a database row: the column list and the values, in the same order."""

from __future__ import annotations

import orjson

from ingestion.records import PricedRecord
from models.request_log import LOG_COLUMNS

__all__ = ["LOG_COLUMNS", "log_row"]


def log_row(record: PricedRecord) -> tuple[object, ...]:
    """The record's values for LOG_COLUMNS (metadata as JSON text with sorted
    keys, tags as a JSON array or NULL)."""
    metadata = record.metadata
    return (
        record.request_id,
        record.organization_id,
        record.api_key_id,
        record.member_id,
        record.timestamp,
        record.model,
        record.provider_model,
        record.endpoint,
        record.input_tokens,
        record.output_tokens,
        record.input_tokens + record.output_tokens,
        record.provider_cost_nanos,
        record.markup_nanos,
        record.fixed_fee_nanos,
        record.customer_cost_nanos,
        record.priced,
        record.latency_ms,
        record.status_code,
        record.error_message,
        None if metadata is None else orjson.dumps(metadata, option=orjson.OPT_SORT_KEYS).decode(),
        record.request_body,
        record.response_body,
        record.provider,
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
        orjson.dumps(list(record.tags)).decode() if record.tags else None,
        record.end_user,
    )
