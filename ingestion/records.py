"""PricedRecord: one validated, priced request log, ready to be written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


# Not frozen: a frozen dataclass sets each of these 23 fields through object.__setattr__,
# about a microsecond per record at gateway volume.
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
    error_message: str | None = None
    metadata: dict[str, Any] | None = None
    request_body: str | None = None
    response_body: str | None = None
    # Attribution (ingestion.attribution): tags in normal form, sorted; the end user's id.
    tags: tuple[str, ...] = ()
    end_user: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
