"""`aize-analytics prices set` and `prices list` cover every class the catalog prices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cli.commands import CommandError
from cli.main import build_parser
from cli.prices import prices_command
from ingestion.catalog_store import load_catalog, stored_prices
from pricing.class_cost import TokenUsage, class_costs
from pricing.money import nanos_to_usd
from settings import Settings

JAN = datetime(2026, 1, 1, tzinfo=UTC)
EVERY_CLASS = [
    "prices", "set", "house-model", "--provider", "acme",
    "--input", "3", "--output", "15",
    "--cache-read", "0.30", "--cache-write-5m", "3.75", "--cache-write-1h", "6",
    "--reasoning", "20", "--per-request", "0.01", "--per-unit", "0.04",
    "--tier", "above=200000,input=6,output=22.50,cache-read=0.6,cache-write-5m=7.5",
    "--effective-from", "2026-01-01",
]  # fmt: skip


async def _prices(*argv: str) -> str:
    return await prices_command(build_parser().parse_args(list(argv)))


async def test_set_stores_every_class_and_prints_it(db: Settings) -> None:
    printed = await _prices(*EVERY_CLASS)

    assert printed == (
        "stored house-model (acme) from 2026-01-01T00:00:00+00:00:\n"
        "  per million tokens: input $3.00, output $15.00, cache-read $0.30, "
        "cache-write-5m $3.75, cache-write-1h $6.00, reasoning $20.00\n"
        "  per request $0.01, per unit $0.04\n"
        "  above 200000 input tokens, per million: input $6.00, output $22.50, "
        "cache-read $0.60, cache-write-5m $7.50"
    )
    [price] = await stored_prices()
    assert price.effective_from == JAN
    assert (
        price.input_per_million_nanos,
        price.output_per_million_nanos,
        price.cache_read_per_million_nanos,
        price.cache_write_5m_per_million_nanos,
        price.cache_write_1h_per_million_nanos,
        price.reasoning_per_million_nanos,
        price.per_request_nanos,
        price.per_unit_nanos,
    ) == (
        3_000_000_000,
        15_000_000_000,
        300_000_000,
        3_750_000_000,
        6_000_000_000,
        20_000_000_000,
        10_000_000,
        40_000_000,
    )
    [tier] = price.tiers
    assert (tier.above_input_tokens, tier.input, tier.output, tier.cache_read) == (
        200_000,
        6_000_000_000,
        22_500_000_000,
        600_000_000,
    )
    # The tier names no 1-hour write price: it falls back to the tier's 5-minute one.
    assert (tier.cache_write_5m, tier.cache_write_1h, tier.reasoning) == (7_500_000_000, None, None)


async def test_a_set_price_bills_each_class_exactly(db: Settings) -> None:
    await _prices(*EVERY_CLASS)
    catalog = await load_catalog()
    price = catalog.price_for("house-model", datetime(2026, 3, 1, tzinfo=UTC))
    assert price is not None
    # 1,000 prompt tokens (400 read from the cache, 100 written for 5 min, 50 for 1 h),
    # 2,000 generated tokens of which 500 reasoning, 2 images, a successful request.
    usage = TokenUsage(1_000, 2_000, 400, 100, 50, 500, request_units=2)

    costs = class_costs(
        usage,
        price.rates_for(usage.input_tokens),
        per_request_nanos=price.per_request_nanos,
        per_unit_nanos=price.per_unit_nanos,
    )

    # 450 x $3 + 400 x $0.30 + (100 x $3.75 + 50 x $6) + 1,500 x $15 + 500 x $20, per million
    assert [nanos_to_usd(n) for n in (costs.input, costs.cache_read, costs.cache_write)] == [
        Decimal("0.00135"),
        Decimal("0.00012"),
        Decimal("0.000675"),
    ]
    assert [nanos_to_usd(n) for n in (costs.output, costs.reasoning, costs.request)] == [
        Decimal("0.0225"),
        Decimal("0.01"),
        Decimal("0.09"),
    ]
    assert nanos_to_usd(costs.total) == Decimal("0.124645")
    # 550 cached tokens at $3 = $0.00165, minus $0.000795 they cost.
    assert nanos_to_usd(costs.cache_savings) == Decimal("0.000855")


async def test_a_set_tier_prices_a_long_request_whole(db: Settings) -> None:
    await _prices(*EVERY_CLASS)
    price = (await load_catalog()).price_for("house-model", JAN)
    assert price is not None
    usage = TokenUsage(250_000, 1_000, cache_read_tokens=100_000, cache_write_1h_tokens=10_000)

    costs = class_costs(usage, price.rates_for(usage.input_tokens), successful=False)

    # 140,000 x $6 + 100,000 x $0.60 + 10,000 x $7.50 (1 h falls back to the tier's 5 min)
    # + 1,000 x $22.50, per million; no per-request price on a failed request.
    assert nanos_to_usd(costs.total) == Decimal("0.9975")
    assert costs.request == 0


async def test_list_shows_each_class_tiers_and_fallbacks(db: Settings) -> None:
    await _prices(*EVERY_CLASS)
    await _prices(
        "prices", "set", "plain-model", "--provider", "acme", "--input", "0.5",
        "--output", "1.5", "--effective-from", "2026-02-01T00:00:00+01:00",
    )  # fmt: skip

    house = (await _prices("prices", "list", "--model", "HOUSE-MODEL")).splitlines()
    plain = (await _prices("prices", "list", "--model", "plain-model")).splitlines()

    assert house[0].split() == [
        "model", "provider", "input/M", "output/M", "c.read/M", "c.wr5m/M", "c.wr1h/M",
        "reason/M", "per", "req", "per", "unit", "effective", "from",
    ]  # fmt: skip
    assert house[1].split() == [
        "house-model", "acme", "3.00", "15.00", "0.30", "3.75", "6.00", "20.00", "0.01",
        "0.04", "2026-01-01",
    ]  # fmt: skip
    assert house[2].split() == [
        "above", "200000", "input", "tokens", "6.00", "22.50", "0.60", "7.50", "-", "-",
    ]  # fmt: skip
    assert house[3].startswith("- = the class's fallback")
    assert len(house) == 4
    assert plain[1].split() == [
        "plain-model", "acme", "0.50", "1.50", "-", "-", "-", "-", "0.00", "0.00", "2026-01-31",
    ]  # fmt: skip


async def test_list_shows_the_shipped_class_prices(db: Settings) -> None:
    listed = (await _prices("prices", "list", "--model", "claude-sonnet-4-5")).splitlines()

    assert listed[1].split()[:8] == [
        "claude-sonnet-4-5", "anthropic", "3.00", "15.00", "0.30", "3.75", "6.00", "-",
    ]  # fmt: skip
    assert listed[2].split() == [
        "above", "200000", "input", "tokens", "6.00", "22.50", "0.60", "7.50", "12.00", "-",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cache-read", "-0.1"], "--cache-read: a price must not be negative"),
        (["--reasoning", "lots"], "--reasoning: "),
        (
            ["--cache-write-1h", "1.0000000001"],
            "--cache-write-1h: USD amount '1.0000000001' has more than 9 decimal places",
        ),
        (["--per-request", "-1"], "--per-request: a price must not be negative"),
        (["--per-unit", ""], "--per-unit: "),
        (
            ["--tier", "above=2k,input=1,output=2"],
            "--tier #1 ('above=2k,input=1,output=2'): above='2k' is not a whole number",
        ),
        (
            ["--tier", "above=10,input=1"],
            "--tier #1 ('above=10,input=1'): output= is missing",
        ),
        (
            ["--tier", "above=10,input=1,output=2,cache=1"],
            "--tier #1 ('above=10,input=1,output=2,cache=1'): unknown key 'cache'",
        ),
        (
            ["--tier", "above=10,input=1,output=2,input=3"],
            "--tier #1 ('above=10,input=1,output=2,input=3'): input= given twice",
        ),
        (
            ["--tier", "above:10,input=1,output=2"],
            "--tier #1 ('above:10,input=1,output=2'): expected key=value",
        ),
        (
            ["--tier", "above=10,input=1,output=2", "--tier", "above=20,input=1,output=-2"],
            "--tier #2 ('above=20,input=1,output=-2') output=: a price must not be negative",
        ),
        (
            ["--tier", "above=10,input=1,output=2", "--tier", "above=10,input=3,output=4"],
            "--tier: two tiers have the same above= threshold",
        ),
    ],
)
async def test_bad_values_are_refused_naming_the_option_and_store_nothing(
    db: Settings, extra: list[str], message: str
) -> None:
    argv = ["prices", "set", "m", "--provider", "p", "--input", "1", "--output", "2", *extra]

    with pytest.raises(CommandError) as refused:
        await _prices(*argv)

    assert str(refused.value).startswith(message)
    assert await stored_prices() == []


async def test_tiers_given_out_of_order_are_stored_ascending(db: Settings) -> None:
    await _prices(
        "prices", "set", "m", "--provider", "p", "--input", "1", "--output", "2",
        "--tier", "above=400000,input=4,output=8", "--tier", "above=100000,input=2,output=4",
    )  # fmt: skip

    [price] = await stored_prices()

    assert [t.above_input_tokens for t in price.tiers] == [100_000, 400_000]
    assert price.rates_for(200_000).input == 2_000_000_000
    assert price.rates_for(400_001).input == 4_000_000_000
