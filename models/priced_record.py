"""PricedRecord: one validated, priced request log, ready to be written.

Its attributes are the columns of models/request_log_columns.py's LOG_ROW, by name
(`total_tokens` computed), which ingestion/log_row.py writes; tests/test_request_log_columns.py
checks that they stay the same set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


# Not frozen: a frozen dataclass sets each of its fields through object.__setattr__, about
# a microsecond per record at gateway volume.
@dataclass(slots=True)
class PricedRecord:
    request_id: UUID
    organization_id: int
    api_key_id: int
    member_id: int | None
    timestamp: datetime  # aware, UTC
    model: str
    provider_model: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    provider_cost_nanos: int
    markup_nanos: int
    fixed_fee_nanos: int
    customer_cost_nanos: int
    priced: bool
    latency_ms: int
    status_code: int
    # Who served the request, lower-case ("openai"; "unknown" when nobody said): see
    # ingestion.providers.
    provider: str = "unknown"
    error_message: str | None = None
    metadata: dict[str, Any] | None = None
    request_body: str | None = None
    response_body: str | None = None
    # Token classes (canonical meaning, pricing/class_cost.py) and per-request units.
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    request_units: int = 0
    # The provider cost per class, nano-USD (they sum to provider_cost_nanos when the
    # catalog priced the request; all 0 when the gateway sent providerCost or no price
    # existed), and what caching saved (signed).
    input_cost_nanos: int = 0
    cache_read_cost_nanos: int = 0
    cache_write_cost_nanos: int = 0
    output_cost_nanos: int = 0
    reasoning_cost_nanos: int = 0
    request_cost_nanos: int = 0
    cache_savings_nanos: int = 0
    # Attribution (models.attribution): tags in normal form, sorted; the end user's id.
    tags: tuple[str, ...] = ()
    end_user: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
