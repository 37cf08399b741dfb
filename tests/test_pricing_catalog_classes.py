"""The catalog's per-class prices, per-request prices and tiers: parsed exactly, refused with
the entry and field named, dumped back in the same format, and the shipped file's entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pricing.catalog import (
    class_price_fields,
    dump_catalog,
    load_default_catalog,
    parse_catalog,
    with_class_price_fields,
)
from pricing.class_cost import TokenUsage, class_costs
from pricing.money import nanos_to_usd, usd_to_nanos

BASE: dict[str, Any] = {
    "model": "m",
    "provider": "p",
    "input_per_million_usd": "3.00",
    "output_per_million_usd": "15.00",
    "effective_from": "2025-01-01",
}


def _catalog_of(**fields: Any) -> str:
    return json.dumps({"prices": [{**BASE, **fields}]})


def test_class_prices_per_request_prices_and_tiers_are_parsed_exactly() -> None:
    text = _catalog_of(
        cache_read_per_million_usd="0.30",
        cache_write_5m_per_million_usd="3.75",
        cache_write_1h_per_million_usd="6",
        reasoning_per_million_usd="20",
        per_request_usd="0.005",
        per_unit_usd="0.04",
        tiers=[
            {"above_input_tokens": 200_000, "input_per_million_usd": "6",
             "output_per_million_usd": "22.50", "cache_read_per_million_usd": "0.60"},
        ],
    )  # fmt: skip

    [price] = parse_catalog(text).entries()

    assert price.cache_read_per_million_nanos == usd_to_nanos("0.30")
    assert price.cache_write_5m_per_million_nanos == usd_to_nanos("3.75")
    assert price.cache_write_1h_per_million_nanos == usd_to_nanos("6")
    assert price.reasoning_per_million_nanos == usd_to_nanos("20")
    assert (price.per_request_nanos, price.per_unit_nanos) == (5_000_000, 40_000_000)
    below, above = price.rates_for(200_000), price.rates_for(200_001)
    assert (below.input, below.cache_read, below.reasoning) == (
        3_000_000_000,
        300_000_000,
        20 * 10**9,
    )
    # The tier names no writes nor reasoning: they fall back within the tier.
    assert (above.input, above.output, above.cache_read) == (6 * 10**9, 22_500_000_000, 600_000_000)
    assert (above.cache_write_5m, above.cache_write_1h, above.reasoning) == (
        6 * 10**9,
        6 * 10**9,
        22_500_000_000,
    )


def test_a_dumped_catalog_with_classes_parses_back_to_the_same_entries() -> None:
    shipped = load_default_catalog()

    assert parse_catalog(dump_catalog(shipped)).entries() == shipped.entries()


def test_stored_class_fields_round_trip_onto_a_plain_price() -> None:
    [price] = parse_catalog(
        _catalog_of(
            cache_read_per_million_usd="0.1",
            tiers=[
                {
                    "above_input_tokens": 5,
                    "input_per_million_usd": "1",
                    "output_per_million_usd": "2",
                }
            ],
        )
    ).entries()
    [plain] = parse_catalog(_catalog_of()).entries()

    assert class_price_fields(plain) == {}
    assert with_class_price_fields(plain, class_price_fields(price)) == price


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cache_read_per_million_usd": 0.3}, "field 'cache_read_per_million_usd': JSON number"),
        ({"cache_write_1h_per_million_usd": "-1"}, "'cache_write_1h_per_million_usd': price must"),
        ({"per_unit_usd": "abc"}, "field 'per_unit_usd'"),
        ({"cache_hit_per_million_usd": "1"}, "field 'cache_hit_per_million_usd': unknown field"),
        ({"tiers": {}}, "field 'tiers': expected a list"),
        ({"tiers": [{"input_per_million_usd": "1", "output_per_million_usd": "1"}]},
         "'tiers[0].above_input_tokens': missing"),
        ({"tiers": [{"above_input_tokens": -1, "input_per_million_usd": "1",
                     "output_per_million_usd": "1"}]},
         "'tiers[0].above_input_tokens': expected a non-negative whole number"),
        ({"tiers": [{"above_input_tokens": 5, "input_per_million_usd": "1",
                     "output_per_million_usd": "1", "per_request_usd": "1"}]},
         "'tiers[0].per_request_usd': unknown field"),
        ({"tiers": [
            {"above_input_tokens": 9, "input_per_million_usd": "1", "output_per_million_usd": "1"},
            {"above_input_tokens": 5, "input_per_million_usd": "1", "output_per_million_usd": "1"},
        ]}, "'tiers': above_input_tokens must be distinct and ascending"),
    ],
)  # fmt: skip
def test_a_bad_class_price_is_refused_naming_the_entry_and_field(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        parse_catalog(_catalog_of(**fields))
    assert "prices[0]" in str(raised.value)
    assert message in str(raised.value)


def test_the_shipped_catalog_prices_current_models_per_class() -> None:
    catalog = load_default_catalog()
    at = datetime(2025, 12, 1, tzinfo=UTC)

    def price(model: str) -> Any:
        found = catalog.price_for(model, at)
        assert found is not None, model
        return found

    assert price("gpt-4o").cache_read_per_million_nanos == usd_to_nanos("1.25")
    assert price("claude-3-5-sonnet").cache_write_1h_per_million_nanos == usd_to_nanos("6")
    assert price("gemini-2.5-pro").tiers[0].above_input_tokens == 200_000
    assert price("claude-sonnet-4-5").rates_for(200_001).output == usd_to_nanos("22.50")
    assert price("o3").input_per_million_nanos == usd_to_nanos("2")  # after the 2025-06-10 cut
    assert price("dall-e-3").per_unit_nanos == usd_to_nanos("0.04")


@pytest.mark.parametrize(
    ("model", "prices"),
    [
        # model: (input, output, cache write 5m, cache write 1h, cache read) USD per million,
        # as platform.claude.com lists them (sources in docs/readme/pricing.md).
        ("claude-opus-4-6", ("5", "25", "6.25", "10", "0.50")),
        ("claude-sonnet-4-6", ("3", "15", "3.75", "6", "0.30")),
        ("claude-opus-4-7", ("5", "25", "6.25", "10", "0.50")),
        ("claude-opus-4-8", ("5", "25", "6.25", "10", "0.50")),
        ("claude-fable-5", ("10", "50", "12.50", "20", "1")),
        ("claude-sonnet-5", ("2", "10", "2.50", "4", "0.20")),
        ("claude-opus-5", ("5", "25", "6.25", "10", "0.50")),
        ("claude-fable-5-1", ("10", "50", "12.50", "20", "0.25")),
        ("claude-opus-5-5", ("4", "20", "5", "8", "0.20")),
        ("claude-sonnet-5-5", ("2", "10", "2.50", "4", "0.20")),
    ],
)
def test_the_shipped_catalog_prices_the_2026_claude_models(
    model: str, prices: tuple[str, str, str, str, str]
) -> None:
    found = load_default_catalog().price_for(model, datetime(2026, 12, 7, tzinfo=UTC))

    assert found is not None
    assert found.provider == "anthropic"
    assert (
        found.input_per_million_nanos,
        found.output_per_million_nanos,
        found.cache_write_5m_per_million_nanos,
        found.cache_write_1h_per_million_nanos,
        found.cache_read_per_million_nanos,
    ) == tuple(usd_to_nanos(p) for p in prices)
    assert found.tiers == ()


def test_a_cached_opus_5_5_request_costs_exactly_its_classes() -> None:
    price = load_default_catalog().price_for("claude-opus-5-5", datetime(2026, 12, 7, tzinfo=UTC))
    assert price is not None
    # 30,000 prompt tokens: 20,000 read from the cache, 5,000 written for an hour; 2,000 out.
    usage = TokenUsage(30_000, 2_000, cache_read_tokens=20_000, cache_write_1h_tokens=5_000)

    costs = class_costs(usage, price.rates_for(usage.input_tokens))

    # 5,000 x $4 + 20,000 x $0.20 + 5,000 x $8 + 2,000 x $20, per million
    assert nanos_to_usd(costs.total) == Decimal("0.104")
    # 25,000 cached tokens at $4 = $0.10, minus $0.004 + $0.04 they cost.
    assert nanos_to_usd(costs.cache_savings) == Decimal("0.056")


def test_every_shipped_price_is_whole_nanos_per_token() -> None:
    # docs/PERFORMANCE.md: shipped prices take class_cost_parts' path without rounding.
    slow = [
        (price.model, threshold)
        for price in load_default_catalog().entries()
        for threshold in (0, *(t.above_input_tokens or 0 for t in price.tiers))
        if price.rates_for(threshold + 1 if threshold else 0).per_token is None
    ]

    assert slow == []
