"""resolvers.usage_measures: exact sums and the ratios built from them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from resolvers.usage_measures import UsageMeasures, fixed_point, growth_percent, percent, ratio


def test_average_cost_of_three_seed_requests_is_0_135_dollars() -> None:
    measures = UsageMeasures(requests=3, customer_cost_nanos=3 * 135_000_000)

    assert measures.average_cost_nanos() == 135_000_000


def test_average_cost_rounds_half_even_to_the_nano_dollar() -> None:
    assert UsageMeasures(requests=2, customer_cost_nanos=5).average_cost_nanos() == 2
    assert UsageMeasures(requests=2, customer_cost_nanos=7).average_cost_nanos() == 4


def test_success_rate_is_2xx_over_total_times_100() -> None:
    measures = UsageMeasures(requests=400, successful=399)

    assert measures.success_rate_percent() == Decimal("99.75")
    assert measures.error_rate_percent() == Decimal("0.25")
    assert measures.failed == 1


def test_rates_are_none_without_requests() -> None:
    empty = UsageMeasures()

    assert empty.success_rate_percent() is None
    assert empty.average_cost_nanos() is None
    assert empty.average_latency_ms() is None


def test_ratios_keep_nine_decimals_and_drop_trailing_zeros() -> None:
    assert ratio(1, 3) == Decimal("0.333333333")
    assert ratio(2, 3) == Decimal("0.666666667")
    assert str(ratio(10, 1)) == "10"
    assert str(percent(1, 8)) == "12.5"
    assert ratio(1, 0) is None


def test_growth_percent_is_signed_and_null_from_zero() -> None:
    assert growth_percent(150, 100) == Decimal("50")
    assert growth_percent(75, 100) == Decimal("-25")
    assert growth_percent(5, 0) is None


def test_fixed_point_is_exact_beyond_decimal_context_precision() -> None:
    huge = 10**40 + 1

    assert str(fixed_point(huge, 2)) == "100000000000000000000000000000000000000.01"
    assert str(fixed_point(-5, 2)) == "-0.05"
    assert str(fixed_point(1500, 3, strip=True)) == "1.5"


def test_measures_add_in_place() -> None:
    total = UsageMeasures(requests=1, input_tokens=2)
    total.add(UsageMeasures(requests=2, input_tokens=3, output_tokens=4))

    assert total == UsageMeasures(requests=3, input_tokens=5, output_tokens=4)
    assert total.total_tokens == 9


def test_add_and_subtract_carry_every_measure() -> None:
    names = [f.name for f in dataclasses.fields(UsageMeasures)]
    first = UsageMeasures(*range(1, len(names) + 1))
    second = UsageMeasures(*(100 * n for n in range(1, len(names) + 1)))

    first.add(second)
    assert [getattr(first, n) for n in names] == [101 * n for n in range(1, len(names) + 1)]

    first.subtract(second)
    first.subtract(second)
    assert [getattr(first, n) for n in names] == [-99 * n for n in range(1, len(names) + 1)]
