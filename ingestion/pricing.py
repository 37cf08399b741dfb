"""Price a validated request: provider cost from the catalog (or the gateway), then the
organization's markup and fee in effect at the request's timestamp (pricing/terms.py).

Rules (documented in docs/readme/ingest.md):
- The provider cost is the gateway's `providerCost` when sent; otherwise each token class
  times its catalog price (pricing/class_cost.py: uncached input, cache reads, cache writes,
  visible output, reasoning, at the context-length tier the prompt reaches) plus the
  per-request prices, from the catalog version in effect at the request's timestamp, looked
  up by the provider model first (what was actually billed, e.g. after a fallback), then by
  the alias. The class parts and the caching savings are stored on the log; with the
  gateway's `providerCost` they stay 0 (the split is unknown).
- Failed requests (any non-2xx status) cost what their tokens cost, but carry no fixed fee:
  the per-request fee is for a served request.
- A request whose customer cost would exceed `MAX_REQUEST_COST_NANOS` is rejected
  (`InvalidRecord`), naming `providerCost` when the gateway sent it, else the token count
  that weighs more in the catalog price: beyond the bound sums of a batch could overflow.
- No price anywhere: the record is stored with `priced=False` and every amount 0, and
  `aize-analytics reprice` prices it once the catalog has a price.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from datetime import UTC, datetime

from ingestion.providers import resolve_provider
from ingestion.validation import MAX_REQUEST_COST_USD, InvalidRecord, ValidRecord
from models.priced_record import PricedRecord
from pricing.catalog import ModelPrice, PriceCatalog
from pricing.class_cost import ClassCosts, TokenUsage, class_cost_parts, class_costs
from pricing.cost import (
    MAX_REQUEST_COST_NANOS,
    CostBreakdown,
    customer_cost,
    markup_of,
)
from pricing.money import format_usd
from pricing.terms import PricingTerms, TermsTimeline

_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)
_NO_PARTS = (0, 0, 0, 0, 0, 0, 0)
# The fields RecordPricer.price passes positionally, in order; `parts` are the seven
# `*_cost_nanos` / savings fields. A field added to PricedRecord before the end of these
# would shift them, so import fails instead of storing amounts in the wrong columns.
_PRICED_FIELDS = (
    "request_id",
    "organization_id",
    "api_key_id",
    "member_id",
    "timestamp",
    "model",
    "provider_model",
    "endpoint",
    "input_tokens",
    "output_tokens",
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "priced",
    "latency_ms",
    "status_code",
    "provider",
    "error_message",
    "metadata",
    "request_body",
    "response_body",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "request_units",
    "input_cost_nanos",
    "cache_read_cost_nanos",
    "cache_write_cost_nanos",
    "output_cost_nanos",
    "reasoning_cost_nanos",
    "request_cost_nanos",
    "cache_savings_nanos",
    "tags",
    "end_user",
)
_declared = tuple(f.name for f in dataclasses.fields(PricedRecord))[: len(_PRICED_FIELDS)]
if _declared != _PRICED_FIELDS:
    raise RuntimeError(
        "ingestion.pricing passes PricedRecord's fields by position; its fields changed to "
        f"{_declared}: update RecordPricer.price and _PRICED_FIELDS together"
    )


def catalog_price(
    catalog: PriceCatalog, provider_model: str, model: str, at: datetime
) -> ModelPrice | None:
    """The price in effect at `at` for the provider model, else for the alias, else None."""
    return catalog.price_for(provider_model, at) or catalog.price_for(model, at)


def catalog_costs(price: ModelPrice, usage: TokenUsage, status_code: int) -> ClassCosts:
    """The provider cost per class (nano-USD) of `usage` at `price`: the tier its
    input_tokens reach, per-request prices for a 2xx request, per-unit prices always."""
    return class_costs(
        usage,
        price.rates_for(usage.input_tokens),
        per_request_nanos=price.per_request_nanos,
        per_unit_nanos=price.per_unit_nanos,
        successful=200 <= status_code < 300,
    )


def usage_of(record: ValidRecord | PricedRecord) -> TokenUsage:
    """The record's token classes and units as a TokenUsage."""
    return TokenUsage(
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_5m_tokens=record.cache_write_5m_tokens,
        cache_write_1h_tokens=record.cache_write_1h_tokens,
        reasoning_tokens=record.reasoning_tokens,
        request_units=record.request_units,
    )


def request_cost(
    *,
    usage: TokenUsage,
    status_code: int,
    price: ModelPrice | None,
    provider_cost: int | None,
    markup_bps: int,
    fixed_fee_nanos: int,
) -> tuple[CostBreakdown, ClassCosts] | None:
    """The request's cost and its class parts in nano-USD, or None when it cannot be
    priced (no price known).

    `provider_cost` (nano-USD, from the gateway) wins over `price`; its class parts are 0.
    """
    parts = ClassCosts()
    if provider_cost is None:
        if price is None:
            return None
        parts = catalog_costs(price, usage, status_code)
        provider_cost = parts.total
    breakdown = customer_cost(provider_cost, markup_bps, fee_for(status_code, fixed_fee_nanos))
    return breakdown, parts


def fee_for(status_code: int, fixed_fee_nanos: int) -> int:
    """The organization's fixed fee applies to successful (2xx) requests only."""
    return fixed_fee_nanos if 200 <= status_code < 300 else 0


class RecordPricer:
    """Prices one batch's validated records for one organization, by the rules above.

    Same results as `catalog_price` + `request_cost`, at a fraction of the cost per record: a
    batch names a handful of (provider model, alias) pairs and its timestamps fall in one
    or two price versions, so the catalog answer is kept per pair together with the span of
    time over which it holds, and the arithmetic uses `pricing.cost`'s unchecked forms
    (validation and the catalog already guarantee non-negative ints).
    """

    __slots__ = (
        "_catalog",
        "_organization_id",
        "_providers",
        "_spans",
        "_terms",
        "_terms_span",
        "_versions",
    )

    def __init__(self, catalog: PriceCatalog, organization_id: int, terms: TermsTimeline) -> None:
        self._catalog = catalog
        self._organization_id = organization_id
        self._terms = terms
        # The organization's terms and the span [from, until) they hold for: a batch's
        # timestamps almost always fall in one version.
        self._terms_span = terms.span_at(datetime.now(UTC))
        versions: dict[str, list[ModelPrice]] = {}
        for price in catalog.entries():  # sorted by (model, effective_from)
            versions.setdefault(price.model.casefold(), []).append(price)
        self._versions = {
            model: ([p.effective_from for p in prices], prices)
            for model, prices in versions.items()
        }
        # (provider model, alias) -> (from, until, price in effect over [from, until))
        self._spans: dict[tuple[str, str], tuple[datetime, datetime, ModelPrice | None]] = {}
        # (provider model, alias) -> the catalog's provider (or "unknown")
        self._providers: dict[tuple[str, str], str] = {}

    def price(self, record: ValidRecord) -> PricedRecord:
        """The record with its costs (nano-USD); unpriced records carry zeros, priced=False.
        Raises InvalidRecord when the customer cost exceeds MAX_REQUEST_COST_NANOS."""
        provider = record.provider_cost_nanos
        price = None
        parts = _NO_PARTS
        if provider is None:
            price = self._catalog_price(record.provider_model, record.model, record.timestamp)
            if price is not None:
                # catalog_costs(price, usage_of(record), status) on plain ints: no objects
                # per record at gateway volume.
                successful = 200 <= record.status_code < 300
                parts = class_cost_parts(
                    record.input_tokens,
                    record.output_tokens,
                    record.cache_read_tokens,
                    record.cache_write_5m_tokens,
                    record.cache_write_1h_tokens,
                    record.reasoning_tokens,
                    record.request_units,
                    price.rates_for(record.input_tokens),
                    price.per_request_nanos if successful else 0,
                    price.per_unit_nanos,
                )
                provider = sum(parts[:6])
        if provider is None:
            markup = fee = customer = 0
            provider = 0
            priced = False
        else:
            terms = self._terms_at(record.timestamp)
            markup = markup_of(provider, terms.markup_bps)
            fee = fee_for(record.status_code, terms.fixed_fee_nanos)
            customer = provider + markup + fee
            priced = True
            if customer > MAX_REQUEST_COST_NANOS:
                raise _over_the_bound(record, price, customer, parts)
        # Positionally, in _PRICED_FIELDS order (checked against PricedRecord at import):
        # keyword arguments cost ~1.4 us more per record at gateway volume.
        return PricedRecord(
            record.request_id,
            self._organization_id,
            record.api_key_id,
            record.member_id,
            record.timestamp,
            record.model,
            record.provider_model,
            record.endpoint,
            record.input_tokens,
            record.output_tokens,
            provider,
            markup,
            fee,
            customer,
            priced,
            record.latency_ms,
            record.status_code,
            self._provider(record),
            record.error_message,
            record.metadata,
            record.request_body,
            record.response_body,
            record.cache_read_tokens,
            record.cache_write_5m_tokens,
            record.cache_write_1h_tokens,
            record.reasoning_tokens,
            record.request_units,
            *parts,
            record.tags,
            record.end_user,
        )

    def _provider(self, record: ValidRecord) -> str:
        """The record's provider (ingestion.providers.resolve_provider), the catalog's
        answer remembered per (provider model, alias)."""
        if record.provider is not None:
            return record.provider
        pair = (record.provider_model, record.model)
        found = self._providers.get(pair)
        if found is None:
            found = resolve_provider(self._catalog, None, *pair)
            self._providers[pair] = found
        return found

    def _terms_at(self, at: datetime) -> PricingTerms:
        """The organization's terms in effect at `at`, remembered with their span."""
        terms, start, end = self._terms_span
        if not start <= at < end:
            self._terms_span = self._terms.span_at(at)
            terms = self._terms_span[0]
        return terms

    def _catalog_price(self, provider_model: str, model: str, at: datetime) -> ModelPrice | None:
        """`catalog_price(catalog, provider_model, model, at)`, remembered per pair with
        the span of time it holds for."""
        span = self._spans.get((provider_model, model))
        if span is not None and span[0] <= at < span[1]:
            return span[2]
        price, start, end = self._version(provider_model, at)
        if price is None:
            price, alias_start, alias_end = self._version(model, at)
            start, end = max(start, alias_start), min(end, alias_end)
        self._spans[(provider_model, model)] = (start, end, price)
        return price

    def _version(self, model: str, at: datetime) -> tuple[ModelPrice | None, datetime, datetime]:
        """The model's version in effect at `at` (as `PriceCatalog.price_for`) and the span
        [start, end) between its neighbouring versions' start instants."""
        starts, prices = self._versions.get(model.casefold(), ((), ()))
        index = bisect_right(starts, at)
        start = starts[index - 1] if index else _BEGINNING
        end = starts[index] if index < len(starts) else _END
        return (prices[index - 1] if index else None), start, end


def _over_the_bound(
    record: ValidRecord, price: ModelPrice | None, customer: int, parts: tuple[int, ...]
) -> InvalidRecord:
    """The rejection of a record whose customer cost (nano-USD) is above the bound, naming
    the field whose class part (`parts`, as `class_cost_parts` returns them) costs most."""
    cost = f"costs {format_usd(customer)} USD with markup and fee"
    limit = f"one request may cost at most {MAX_REQUEST_COST_USD}"
    if price is None:  # the gateway's providerCost
        return InvalidRecord("providerCost", f"{cost}; {limit}")
    writes = (
        "cacheWrite5mTokens"
        if record.cache_write_5m_tokens >= record.cache_write_1h_tokens
        else "cacheWrite1hTokens"
    )
    fields = ("inputTokens", "cacheReadTokens", writes, "outputTokens", "reasoningTokens")
    heaviest = max(range(6), key=parts.__getitem__)
    field = "requestUnits" if heaviest == 5 else fields[heaviest]
    return InvalidRecord(field, f"{cost} at the catalog price of {price.model}; {limit}")
