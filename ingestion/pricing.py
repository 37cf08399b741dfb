"""Price a validated request: provider cost from the catalog (or the gateway), then the
organization's markup and fee.

Rules (documented in docs/readme/ingest.md):
- The provider cost is the gateway's `providerCost` when sent; otherwise input and output
  tokens times the catalog price in effect at the request's timestamp, looked up by the
  provider model first (what was actually billed, e.g. after a fallback), then by the alias.
- Failed requests (any non-2xx status) cost what their tokens cost, but carry no fixed fee:
  the per-request fee is for a served request.
- No price anywhere: the record is stored with `priced=False` and every amount 0, and
  `aize-analytics reprice` prices it once the catalog has a price.
"""

from __future__ import annotations

from datetime import datetime

from ingestion.records import PricedRecord
from ingestion.validation import ValidRecord
from pricing.catalog import ModelPrice, PriceCatalog
from pricing.cost import CostBreakdown, customer_cost, provider_cost_nanos

_UNPRICED = CostBreakdown(0, 0, 0, 0)


def catalog_price(
    catalog: PriceCatalog, provider_model: str, model: str, at: datetime
) -> ModelPrice | None:
    """The price in effect at `at` for the provider model, else for the alias, else None."""
    return catalog.price_for(provider_model, at) or catalog.price_for(model, at)


def request_cost(
    *,
    input_tokens: int,
    output_tokens: int,
    status_code: int,
    price: ModelPrice | None,
    provider_cost: int | None,
    markup_bps: int,
    fixed_fee_nanos: int,
) -> CostBreakdown | None:
    """The request's cost in nano-USD, or None when it cannot be priced (no price known).

    `provider_cost` (nano-USD, from the gateway) wins over `price`.
    """
    if provider_cost is None:
        if price is None:
            return None
        provider_cost = provider_cost_nanos(
            input_tokens,
            output_tokens,
            price.input_per_million_nanos,
            price.output_per_million_nanos,
        )
    fee = fixed_fee_nanos if 200 <= status_code < 300 else 0
    return customer_cost(provider_cost, markup_bps, fee)


def price_record(
    record: ValidRecord,
    organization_id: int,
    catalog: PriceCatalog,
    markup_bps: int,
    fixed_fee_nanos: int,
) -> PricedRecord:
    """The record with its costs (nano-USD); unpriced records carry zeros and priced=False."""
    price = (
        None
        if record.provider_cost_nanos is not None
        else catalog_price(catalog, record.provider_model, record.model, record.timestamp)
    )
    cost = request_cost(
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        status_code=record.status_code,
        price=price,
        provider_cost=record.provider_cost_nanos,
        markup_bps=markup_bps,
        fixed_fee_nanos=fixed_fee_nanos,
    )
    amounts = cost or _UNPRICED
    return PricedRecord(
        request_id=record.request_id,
        organization_id=organization_id,
        api_key_id=record.api_key_id,
        member_id=record.member_id,
        timestamp=record.timestamp,
        model=record.model,
        provider_model=record.provider_model,
        endpoint=record.endpoint,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        provider_cost_nanos=amounts.provider_cost_nanos,
        markup_nanos=amounts.markup_nanos,
        fixed_fee_nanos=amounts.fixed_fee_nanos,
        customer_cost_nanos=amounts.customer_cost_nanos,
        priced=cost is not None,
        latency_ms=record.latency_ms,
        status_code=record.status_code,
        error_message=record.error_message,
        metadata=record.metadata,
        request_body=record.request_body,
        response_body=record.response_body,
    )
