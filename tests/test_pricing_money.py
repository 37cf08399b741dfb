from decimal import Decimal

import pytest

from pricing.money import (
    NANOS_PER_USD,
    format_usd,
    nanos_to_usd,
    round_half_even_div,
    usd_to_nanos,
)


def test_one_dollar_is_a_billion_nanos() -> None:
    assert NANOS_PER_USD == 1_000_000_000


@pytest.mark.parametrize(
    ("value", "nanos"),
    [
        ("0.135", 135_000_000),
        ("0.000000525", 525),
        (Decimal("2.50"), 2_500_000_000),
        (3, 3_000_000_000),
        ("-2.5", -2_500_000_000),
        (" 1.5 ", 1_500_000_000),
        ("1.500000000000", 1_500_000_000),
        ("1E-9", 1),
        ("0", 0),
        ("123456789012345678901234567890.123456789", 123456789012345678901234567890123456789),
    ],
)
def test_usd_to_nanos_converts_exactly(value: Decimal | str | int, nanos: int) -> None:
    assert usd_to_nanos(value) == nanos


@pytest.mark.parametrize("value", [0.1, 1.0, True, False, None, [1]])
def test_usd_to_nanos_rejects_floats_bools_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        usd_to_nanos(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0.0000000001", Decimal("1.0000000005")])
def test_usd_to_nanos_rejects_more_than_nine_decimal_places(value: Decimal | str) -> None:
    with pytest.raises(ValueError, match="more than 9 decimal places"):
        usd_to_nanos(value)


@pytest.mark.parametrize("value", ["abc", "", "1.2.3", "$1"])
def test_usd_to_nanos_rejects_text_that_is_not_a_number(value: str) -> None:
    with pytest.raises(ValueError, match="not a decimal number"):
        usd_to_nanos(value)


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", Decimal("NaN"), Decimal("sNaN"), Decimal("Inf")]
)
def test_usd_to_nanos_rejects_non_finite_values(value: Decimal | str) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        usd_to_nanos(value)


@pytest.mark.parametrize(
    ("nanos", "usd", "text"),
    [
        (135_000_000, Decimal("0.135"), "0.135"),
        (525, Decimal("0.000000525"), "0.000000525"),
        (1, Decimal("1E-9"), "0.000000001"),
        (10 * NANOS_PER_USD, Decimal(10), "10"),
        (-2_500_000_000, Decimal("-2.5"), "-2.5"),
        (0, Decimal(0), "0"),
        (10**40, Decimal(10**31), str(10**31)),
    ],
)
def test_nanos_to_usd_is_exact_normalized_and_never_scientific(
    nanos: int, usd: Decimal, text: str
) -> None:
    result = nanos_to_usd(nanos)
    assert isinstance(result, Decimal)
    assert result == usd
    assert str(result) == text
    assert f"{result}" == text


def test_nanos_to_usd_round_trips_through_usd_to_nanos() -> None:
    for nanos in (0, 1, 525, 135_000_000, -7, 10**30 + 1):
        assert usd_to_nanos(nanos_to_usd(nanos)) == nanos


def test_nanos_to_usd_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        nanos_to_usd(Decimal("1"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (135_000_000, "0.135"),
        (NANOS_PER_USD, "1.00"),
        (525, "0.000000525"),
        (-2_500_000_000, "-2.50"),
        (0, "0.00"),
        (-1, "-0.000000001"),
        (10 * NANOS_PER_USD, "10.00"),
        (1_230_000_000, "1.23"),
        (1_234_000_000, "1.234"),
    ],
)
def test_format_usd_has_at_least_two_decimals_and_no_extra_zeros(nanos: int, text: str) -> None:
    assert format_usd(nanos) == text


def test_format_usd_rejects_bool() -> None:
    with pytest.raises(TypeError):
        format_usd(True)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 2),
        (7, 2, 4),
        (-5, 2, -2),
        (-7, 2, -4),
        (5, -2, -2),
        (-5, -2, 2),
        (1, 3, 0),
        (2, 3, 1),
        (-2, 3, -1),
        (6, 3, 2),
        (0, 7, 0),
        (1_500_000, 1_000_000, 2),
        (2_500_000, 1_000_000, 2),
        (2_500_001, 1_000_000, 3),
        (-2_500_000, 1_000_000, -2),
    ],
)
def test_round_half_even_div_rounds_ties_to_even_for_any_sign(
    numerator: int, denominator: int, expected: int
) -> None:
    assert round_half_even_div(numerator, denominator) == expected


def test_round_half_even_div_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        round_half_even_div(1, 0)


def test_round_half_even_div_rejects_floats() -> None:
    with pytest.raises(TypeError):
        round_half_even_div(1.5, 1)  # type: ignore[arg-type]


def test_usd_to_nanos_rejects_absurd_exponents_without_building_huge_numbers() -> None:
    with pytest.raises(ValueError, match="too large"):
        usd_to_nanos("1E+999999999")
    with pytest.raises(ValueError, match="more than 9 decimal places"):
        usd_to_nanos("1E-999999999")


def test_usd_to_nanos_treats_any_zero_as_zero() -> None:
    assert usd_to_nanos("0E-30") == 0
    assert usd_to_nanos("-0.000") == 0
    assert usd_to_nanos(Decimal("0E+99")) == 0
