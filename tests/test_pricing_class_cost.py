"""Per-class pricing: worked examples per provider convention (exact decimals), the class
fallbacks, context-length tiers, per-request prices, rounding and caching savings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion.provider_usage import normalize_usage
from pricing.catalog import ModelPrice, load_default_catalog
from pricing.class_cost import ClassCosts, TokenUsage, class_costs
from pricing.cost import provider_cost_nanos
from pricing.money import format_usd, usd_to_nanos
from pricing.rates import TokenPrices

NOW = datetime(2025, 11, 30, tzinfo=UTC)


def _priced(model: str, usage: TokenUsage, *, status_code: int = 200) -> ClassCosts:
    price = load_default_catalog().price_for(model, NOW)
    assert price is not None
    return class_costs(
        usage,
        price.rates_for(usage.input_tokens),
        per_request_nanos=price.per_request_nanos,
        per_unit_nanos=price.per_unit_nanos,
        successful=200 <= status_code < 300,
    )


def _usage(usage_format: str, raw: dict[str, Any], units: int = 0) -> TokenUsage:
    canonical = normalize_usage(usage_format, raw)
    return TokenUsage(
        canonical.input_tokens,
        canonical.output_tokens,
        canonical.cache_read_tokens,
        canonical.cache_write_5m_tokens,
        canonical.cache_write_1h_tokens,
        canonical.reasoning_tokens,
        units,
    )


def _usd(costs: ClassCosts) -> dict[str, str]:
    return {
        "total": format_usd(costs.total),
        "input": format_usd(costs.input),
        "cache_read": format_usd(costs.cache_read),
        "cache_write": format_usd(costs.cache_write),
        "output": format_usd(costs.output),
        "reasoning": format_usd(costs.reasoning),
        "request": format_usd(costs.request),
        "savings": format_usd(costs.cache_savings),
    }


def test_openai_cached_and_reasoning_tokens_are_inside_prompt_and_completion() -> None:
    # gpt-5: $1.25 input, $0.125 cached input, $10 output (reasoning billed as output).
    usage = _usage(
        "OPENAI",
        {
            "prompt_tokens": 10_000,
            "completion_tokens": 3_000,
            "prompt_tokens_details": {"cached_tokens": 8_000},
            "completion_tokens_details": {"reasoning_tokens": 2_000},
        },
    )

    assert usage == TokenUsage(10_000, 3_000, cache_read_tokens=8_000, reasoning_tokens=2_000)
    # 2,000 x 1.25 + 8,000 x 0.125 + 1,000 x 10 + 2,000 x 10, per million
    assert _usd(_priced("gpt-5", usage)) == {
        "total": "0.0335",
        "input": "0.0025",
        "cache_read": "0.001",
        "cache_write": "0.00",
        "output": "0.01",
        "reasoning": "0.02",
        "request": "0.00",
        "savings": "0.009",  # 8,000 x (1.25 - 0.125) per million
    }


def test_openai_responses_api_names_map_the_same_way() -> None:
    usage = _usage(
        "openai",
        {
            "input_tokens": 10_000,
            "output_tokens": 3_000,
            "input_tokens_details": {"cached_tokens": 8_000},
            "output_tokens_details": {"reasoning_tokens": 2_000},
        },
    )

    assert usage == TokenUsage(10_000, 3_000, cache_read_tokens=8_000, reasoning_tokens=2_000)


def test_anthropic_cache_tokens_are_added_to_input_tokens() -> None:
    # claude-sonnet-4-5: $3 input, $0.30 read, $3.75 5m write, $6 1h write, $15 output.
    usage = _usage(
        "ANTHROPIC",
        {
            "input_tokens": 2_000,
            "cache_read_input_tokens": 100_000,
            "cache_creation_input_tokens": 12_000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 10_000,
                "ephemeral_1h_input_tokens": 2_000,
            },
            "output_tokens": 1_000,
        },
    )

    assert usage == TokenUsage(
        114_000, 1_000, cache_read_tokens=100_000, cache_write_5m_tokens=10_000,
        cache_write_1h_tokens=2_000,
    )  # fmt: skip
    assert _usd(_priced("claude-sonnet-4-5", usage)) == {
        "total": "0.1005",
        "input": "0.006",
        "cache_read": "0.03",
        "cache_write": "0.0495",  # 10,000 x 3.75 + 2,000 x 6.00
        "output": "0.015",
        "reasoning": "0.00",
        "request": "0.00",
        "savings": "0.2565",  # 112,000 x 3.00 per million - (0.03 + 0.0495)
    }


def test_anthropic_writes_without_the_split_are_five_minute_writes() -> None:
    usage = _usage(
        "ANTHROPIC",
        {"input_tokens": 5, "cache_creation_input_tokens": 40, "output_tokens": 7},
    )

    assert usage == TokenUsage(45, 7, cache_write_5m_tokens=40)


def test_gemini_thoughts_are_output_beside_candidates_and_cached_inside_prompt() -> None:
    # gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output (thinking included).
    usage = _usage(
        "GEMINI",
        {
            "promptTokenCount": 20_000,
            "cachedContentTokenCount": 15_000,
            "candidatesTokenCount": 1_000,
            "thoughtsTokenCount": 4_000,
            "totalTokenCount": 25_000,
        },
    )

    assert usage == TokenUsage(20_000, 5_000, cache_read_tokens=15_000, reasoning_tokens=4_000)
    assert _usd(_priced("gemini-2.5-flash", usage)) == {
        "total": "0.01445",
        "input": "0.0015",
        "cache_read": "0.00045",
        "cache_write": "0.00",
        "output": "0.0025",
        "reasoning": "0.01",
        "request": "0.00",
        "savings": "0.00405",
    }


def test_bedrock_converse_cache_tokens_are_outside_input_tokens() -> None:
    usage = _usage(
        "BEDROCK",
        {
            "inputTokens": 1_000,
            "outputTokens": 500,
            "cacheReadInputTokens": 50_000,
            "cacheWriteInputTokens": 4_000,
            "totalTokens": 55_500,
        },
    )

    assert usage == TokenUsage(55_000, 500, cache_read_tokens=50_000, cache_write_5m_tokens=4_000)
    # claude-3-7-sonnet on Bedrock at Anthropic's list prices:
    # 1,000 x 3 + 50,000 x 0.30 + 4,000 x 3.75 + 500 x 15 = 3,000 + 15,000 + 15,000 + 7,500
    assert _usd(_priced("claude-3-7-sonnet", usage)) == {
        "total": "0.0405",
        "input": "0.003",
        "cache_read": "0.015",
        "cache_write": "0.015",
        "output": "0.0075",
        "reasoning": "0.00",
        "request": "0.00",
        "savings": "0.132",  # 54,000 x 3 - 30,000
    }


def test_a_request_above_the_tier_threshold_is_priced_whole_at_the_tier() -> None:
    # gemini-2.5-pro: up to 200k prompt tokens $1.25/$10 (cache $0.125), above $2.50/$15 ($0.25).
    at_threshold = _priced("gemini-2.5-pro", TokenUsage(200_000, 1_000, cache_read_tokens=100_000))
    above = _priced("gemini-2.5-pro", TokenUsage(200_001, 1_000, cache_read_tokens=100_000))

    # 100,000 x 1.25 + 100,000 x 0.125 + 1,000 x 10
    assert format_usd(at_threshold.total) == "0.1475"
    # 100,001 x 2.50 + 100,000 x 0.25 + 1,000 x 15
    assert format_usd(above.total) == "0.2900025"
    assert format_usd(above.cache_savings) == "0.225"


def test_claude_sonnet_4_long_context_tier_prices_every_class() -> None:
    usage = TokenUsage(
        300_000, 2_000, cache_read_tokens=100_000, cache_write_5m_tokens=50_000,
        cache_write_1h_tokens=10_000,
    )  # fmt: skip

    costs = _priced("claude-sonnet-4", usage)

    # 140,000 x 6 + 100,000 x 0.60 + 50,000 x 7.50 + 10,000 x 12 + 2,000 x 22.50
    assert _usd(costs)["total"] == "1.44"
    assert (costs.input, costs.cache_read, costs.cache_write, costs.output) == (
        usd_to_nanos("0.84"),
        usd_to_nanos("0.06"),
        usd_to_nanos("0.495"),
        usd_to_nanos("0.045"),
    )


def test_the_sonnet_4_tier_starts_on_its_effective_date() -> None:
    catalog = load_default_catalog()
    before = catalog.price_for("claude-sonnet-4", datetime(2025, 8, 11, tzinfo=UTC))
    after = catalog.price_for("claude-sonnet-4", datetime(2025, 8, 12, tzinfo=UTC))
    assert before is not None and after is not None

    assert before.rates_for(300_000).input == usd_to_nanos("3")
    assert after.rates_for(300_000).input == usd_to_nanos("6")


def test_per_unit_prices_charge_each_unit_and_per_request_prices_only_served_requests() -> None:
    images = _priced("dall-e-3", TokenUsage(0, 0, request_units=3))
    assert format_usd(images.total) == "0.12"
    assert format_usd(images.request) == "0.12"

    price = ModelPrice(
        "search-model", "p", usd_to_nanos("1"), usd_to_nanos("1"), NOW,
        per_request_nanos=usd_to_nanos("0.005"), per_unit_nanos=usd_to_nanos("0.01"),
    )  # fmt: skip
    usage = TokenUsage(1_000, 1_000, request_units=2)
    served = class_costs(
        usage, price.rates_for(1_000), per_request_nanos=price.per_request_nanos,
        per_unit_nanos=price.per_unit_nanos, successful=True,
    )  # fmt: skip
    failed = class_costs(
        usage, price.rates_for(1_000), per_request_nanos=price.per_request_nanos,
        per_unit_nanos=price.per_unit_nanos, successful=False,
    )  # fmt: skip

    assert format_usd(served.total) == "0.027"  # 0.001 + 0.001 + 0.005 + 2 x 0.01
    assert format_usd(failed.total) == "0.022"


def test_classes_without_a_price_fall_back() -> None:
    rates = TokenPrices(input=100, output=1_000).resolved()
    assert (rates.cache_read, rates.cache_write_5m, rates.cache_write_1h, rates.reasoning) == (
        100,
        100,
        100,
        1_000,
    )
    five_only = TokenPrices(input=100, output=1_000, cache_write_5m=125).resolved()
    assert five_only.cache_write_1h == 125


def test_input_and_output_only_costs_exactly_what_it_cost_before() -> None:
    for input_tokens, output_tokens, price_in, price_out in [
        (1_000, 500, 30_000_000_000, 60_000_000_000),
        (1, 1, 1, 3),
        (333_333, 7, 2_500_000_001, 10_000_000_003),
        (0, 0, 5, 5),
    ]:
        costs = class_costs(
            TokenUsage(input_tokens, output_tokens),
            TokenPrices(price_in, price_out).resolved(),
        )
        assert costs.total == provider_cost_nanos(input_tokens, output_tokens, price_in, price_out)
        assert costs.cache_savings == 0


def test_parts_always_sum_to_the_total_even_when_each_rounds() -> None:
    # Half-nano parts: each rounds on its own, the total once; the residue goes to the largest.
    rates = TokenPrices(input=500_000, output=1_500_000, cache_read=500_000, reasoning=500_000)
    costs = class_costs(TokenUsage(3, 3, cache_read_tokens=1, reasoning_tokens=1), rates.resolved())

    # exact: 2 x 0.5 + 1 x 0.5 + 2 x 1.5 + 1 x 0.5 = 5.0 nanos
    assert costs.total == 5
    assert costs.input + costs.cache_read + costs.output + costs.reasoning == 5


def test_cache_writes_that_cost_more_than_input_give_negative_savings() -> None:
    costs = _priced("claude-opus-4-5", TokenUsage(10_000, 0, cache_write_1h_tokens=10_000))

    # 10,000 x 5.00 (uncached) - 10,000 x 10.00 (1-hour write)
    assert format_usd(costs.cache_savings) == "-0.05"


@pytest.mark.parametrize(
    ("usage_format", "usage", "path"),
    [
        ("OPENAI", {"prompt_tokens": -1, "completion_tokens": 0}, "prompt_tokens"),
        (
            "OPENAI",
            {"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": "5"}},
            "prompt_tokens_details.cached_tokens",
        ),
        ("GEMINI", {"promptTokenCount": 1.5}, "promptTokenCount"),
        (
            "ANTHROPIC",
            {
                "input_tokens": 1,
                "cache_creation_input_tokens": 10,
                "cache_creation": {"ephemeral_5m_input_tokens": 4},
            },
            "cache_creation",
        ),
        ("BEDROCK", {"inputTokens": True}, "inputTokens"),
    ],
)
def test_a_malformed_provider_field_is_named_by_its_path(
    usage_format: str, usage: dict[str, Any], path: str
) -> None:
    from ingestion.provider_usage import UsageFieldError

    with pytest.raises(UsageFieldError) as raised:
        normalize_usage(usage_format, usage)
    assert raised.value.path == path
