from decimal import Decimal

import pytest

from pricing.cost import (
    CostBreakdown,
    basis_points_to_percent,
    customer_cost,
    percent_to_basis_points,
    provider_cost_nanos,
)
from pricing.money import format_usd, usd_to_nanos


def test_product_page_example_costs_exactly_0_135_usd() -> None:
    breakdown = customer_cost(
        provider_cost_nanos=usd_to_nanos("0.10"),
        markup_basis_points=percent_to_basis_points("25"),
        fixed_fee_nanos=usd_to_nanos("0.01"),
    )
    assert breakdown == CostBreakdown(
        provider_cost_nanos=100_000_000,
        markup_nanos=25_000_000,
        fixed_fee_nanos=10_000_000,
        customer_cost_nanos=135_000_000,
    )
    assert format_usd(breakdown.customer_cost_nanos) == "0.135"


def test_cost_breakdown_is_immutable() -> None:
    breakdown = customer_cost(1, 0, 0)
    with pytest.raises(AttributeError):
        breakdown.markup_nanos = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("provider", "bps", "markup"),
    [
        (2, 2500, 0),  # 0.5 -> 0
        (6, 2500, 2),  # 1.5 -> 2
        (10, 2500, 2),  # 2.5 -> 2
        (14, 2500, 4),  # 3.5 -> 4
        (3, 3333, 1),  # 0.9999 -> 1
        (1, 4999, 0),  # 0.4999 -> 0
        (1, 5001, 1),  # 0.5001 -> 1
        (1_000_000_000, 0, 0),
    ],
)
def test_markup_rounds_half_even_to_a_whole_nano(provider: int, bps: int, markup: int) -> None:
    breakdown = customer_cost(provider, bps, 7)
    assert breakdown.markup_nanos == markup
    assert breakdown.customer_cost_nanos == provider + markup + 7


def test_seven_tokens_at_0_075_usd_per_million_cost_525_nanos() -> None:
    price = usd_to_nanos("0.075")
    assert provider_cost_nanos(7, 0, price, 0) == 525
    assert provider_cost_nanos(0, 7, 0, price) == 525


def test_one_token_at_a_sub_nano_price_rounds_to_zero() -> None:
    assert provider_cost_nanos(1, 0, usd_to_nanos("0.0000015"), 0) == 0


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [(1, 0), (3, 2), (5, 2), (7, 4)],  # 0.5, 1.5, 2.5, 3.5 nanos
)
def test_provider_cost_ties_round_half_even(tokens: int, expected: int) -> None:
    half_nano_per_token = usd_to_nanos("0.0005")  # 500_000 nanos per million tokens
    assert provider_cost_nanos(tokens, 0, half_nano_per_token, 0) == expected


def test_provider_cost_rounds_the_sum_once_not_each_part() -> None:
    half_nano_per_token = usd_to_nanos("0.0005")
    # 0.5 + 0.5 = 1 nano; rounding each half separately would give 0 + 0.
    assert provider_cost_nanos(1, 1, half_nano_per_token, half_nano_per_token) == 1


def test_provider_cost_of_a_gpt_4_request() -> None:
    cost = provider_cost_nanos(1_234, 567, usd_to_nanos("30"), usd_to_nanos("60"))
    assert cost == 1_234 * 30_000 + 567 * 60_000 == 71_040_000
    assert format_usd(cost) == "0.07104"


@pytest.mark.parametrize(
    "args",
    [(-1, 0, 1, 1), (0, -1, 1, 1), (1, 1, -1, 1), (1, 1, 1, -1)],
)
def test_provider_cost_rejects_negative_tokens_and_prices(args: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        provider_cost_nanos(*args)


def test_provider_cost_rejects_float_and_bool() -> None:
    with pytest.raises(TypeError):
        provider_cost_nanos(1.0, 0, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        provider_cost_nanos(True, 0, 1, 1)


@pytest.mark.parametrize("args", [(-1, 0, 0), (1, -1, 0), (1, 0, -1)])
def test_customer_cost_rejects_negative_inputs(args: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        customer_cost(*args)


@pytest.mark.parametrize(
    ("percent", "bps"),
    [
        ("25", 2500),
        ("12.5", 1250),
        ("0.01", 1),
        ("0", 0),
        (Decimal("7.50"), 750),
        (100, 10_000),
        ("12.500", 1250),
    ],
)
def test_percent_to_basis_points_is_exact(percent: Decimal | str | int, bps: int) -> None:
    assert percent_to_basis_points(percent) == bps


def test_percent_to_basis_points_rejects_more_than_two_decimals() -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        percent_to_basis_points("12.345")


def test_percent_to_basis_points_rejects_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        percent_to_basis_points("-1")


@pytest.mark.parametrize("value", ["abc", "NaN"])
def test_percent_to_basis_points_rejects_non_numbers(value: str) -> None:
    with pytest.raises(ValueError):
        percent_to_basis_points(value)


def test_percent_to_basis_points_rejects_float() -> None:
    with pytest.raises(TypeError):
        percent_to_basis_points(25.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bps", "text"),
    [(2500, "25.00"), (1250, "12.50"), (1, "0.01"), (0, "0.00"), (10_000, "100.00")],
)
def test_basis_points_to_percent_has_exactly_two_decimals(bps: int, text: str) -> None:
    percent = basis_points_to_percent(bps)
    assert isinstance(percent, Decimal)
    assert str(percent) == text
    assert percent_to_basis_points(percent) == bps
