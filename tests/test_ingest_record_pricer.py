"""RecordPricer, ingest's per-batch pricer, gives exactly what the pricing rules give
(`catalog_price` + `request_cost`) for every record, across price versions and fallbacks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from ingestion.pricing import RecordPricer, catalog_price, request_cost, usage_of
from ingestion.validation import InvalidRecord, ValidRecord
from pricing.catalog import ModelPrice, PriceCatalog
from pricing.cost import MAX_REQUEST_COST_NANOS
from pricing.terms import TermsTimeline

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _price(model: str, day: int, input_nanos: int, output_nanos: int) -> ModelPrice:
    return ModelPrice(model, "provider", input_nanos, output_nanos, T0 + timedelta(days=day))


# Versions on days 0, 10 and 20 for "Alpha"; "beta-2025" (a provider model) only from day 5;
# "gamma" from day 15. Odd prices make half-nano ties and rounding frequent.
CATALOG = PriceCatalog(
    [
        _price("Alpha", 0, 2_500_000_001, 10_000_000_003),
        _price("alpha", 10, 1_500_000_000, 7_500_000_000),
        _price("ALPHA", 20, 999, 1_000_001),
        _price("beta-2025", 5, 3_000_000_000, 15_000_000_000),
        _price("gamma", 15, 1, 3),
    ]
)
PAIRS = [
    ("alpha", "alpha"),
    ("beta-2025", "alpha"),  # provider model priced from day 5, alias before that
    ("beta-2025", "gamma"),  # neither before day 5
    ("unknown", "gamma"),
    ("unknown", "nothing"),  # never priced
    ("Gamma", "ALPHA"),
]


def _record(rng: random.Random, at: datetime, pair: tuple[str, str]) -> ValidRecord:
    provider_model, model = pair
    record = ValidRecord(
        request_id=uuid4(),
        timestamp=at,
        api_key_id=1,
        member_id=None,
        model=model,
        provider_model=provider_model,
        endpoint="/v1/chat/completions",
        input_tokens=rng.choice([0, 1, 500_000, rng.randrange(2**31)]),
        output_tokens=rng.choice([0, 1, 250_000, rng.randrange(2**31)]),
        provider_cost_nanos=rng.choice([None, None, None, 0, 7, rng.randrange(10**15)]),
        latency_ms=10,
        status_code=rng.choice([199, 200, 204, 299, 300, 404, 500]),
        error_message=None,
        metadata=None,
        request_body=None,
        response_body=None,
    )
    # Token classes: subsets of the input (cache) and output (reasoning) tokens.
    record.cache_read_tokens = rng.randrange(record.input_tokens + 1)
    record.cache_write_5m_tokens = rng.randrange(record.input_tokens - record.cache_read_tokens + 1)
    record.reasoning_tokens = rng.randrange(record.output_tokens + 1)
    return record


@pytest.mark.parametrize("markup_bps, fee", [(0, 0), (2500, 1_000_000), (1, 3), (12_345, 7)])
def test_the_pricer_matches_the_pricing_rules_for_every_record(markup_bps: int, fee: int) -> None:
    rng = random.Random(markup_bps)
    pricer = RecordPricer(CATALOG, 42, TermsTimeline.constant(markup_bps, fee))
    # Instants in time order and then shuffled, exactly on version starts and around them.
    instants = [T0 + timedelta(days=d, microseconds=u) for d in range(-1, 25) for u in (-1, 0, 1)]
    instants += rng.sample(instants, len(instants))
    checked = over_the_bound = 0
    for at in instants:
        for pair in PAIRS:
            record = _record(rng, at, pair)
            expected_cost = request_cost(
                usage=usage_of(record),
                status_code=record.status_code,
                price=catalog_price(CATALOG, record.provider_model, record.model, at),
                provider_cost=record.provider_cost_nanos,
                markup_bps=markup_bps,
                fixed_fee_nanos=fee,
            )
            expected = None if expected_cost is None else expected_cost[0]
            if expected is not None and expected.customer_cost_nanos > MAX_REQUEST_COST_NANOS:
                with pytest.raises(InvalidRecord):
                    pricer.price(record)
                over_the_bound += 1
                continue
            priced = pricer.price(record)
            amounts = (
                priced.provider_cost_nanos,
                priced.markup_nanos,
                priced.fixed_fee_nanos,
                priced.customer_cost_nanos,
            )
            if expected is None:
                assert (priced.priced, amounts) == (False, (0, 0, 0, 0))
            else:
                assert priced.priced is True
                assert amounts == (
                    expected.provider_cost_nanos,
                    expected.markup_nanos,
                    expected.fixed_fee_nanos,
                    expected.customer_cost_nanos,
                )
                assert expected_cost is not None
                parts = expected_cost[1]
                assert (
                    priced.input_cost_nanos,
                    priced.cache_read_cost_nanos,
                    priced.cache_write_cost_nanos,
                    priced.output_cost_nanos,
                    priced.reasoning_cost_nanos,
                    priced.cache_savings_nanos,
                ) == (
                    parts.input,
                    parts.cache_read,
                    parts.cache_write,
                    parts.output,
                    parts.reasoning,
                    parts.cache_savings,
                )
            assert (priced.organization_id, priced.request_id) == (42, record.request_id)
            checked += 1
    assert checked + over_the_bound == len(instants) * len(PAIRS)
    assert over_the_bound > 0  # the random token counts reach past the bound


def test_a_record_before_any_version_and_without_a_cost_is_unpriced() -> None:
    pricer = RecordPricer(CATALOG, 1, TermsTimeline.constant(2500, 1_000_000))
    record = _record(random.Random(0), T0 - timedelta(days=1), ("unknown", "alpha"))
    record.provider_cost_nanos = None

    priced = pricer.price(record)

    assert priced.priced is False
    assert priced.customer_cost_nanos == 0
