"""`class_cost_parts` equals exact Decimal arithmetic for any usage and prices, on both of
its paths: whole nanos per token (no rounding at all) and the general one (half to even)."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.class_cost import class_cost_parts
from pricing.rates import ClassRates

Usage = tuple[int, int, int, int, int, int]  # input, output, read, write 5m, 1h, reasoning
Prices = tuple[int, int, int, int, int, int]  # nano-USD per million, ClassRates order
TOKENS = st.integers(min_value=0, max_value=2_147_483_647)
# Whole nanos per token (a multiple of 1,000,000 nanos per million), up to $600 per million.
WHOLE = st.integers(min_value=0, max_value=600_000).map(lambda n: n * 1_000_000)
ANY_PRICE = st.integers(min_value=0, max_value=600_000_000_000)


def _half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _exact(usage: Usage, rates: ClassRates) -> tuple[int, int]:
    """(provider cost of the tokens, caching savings) in nano-USD, from Decimals."""
    inp, out, read, w5, w1, reasoning = usage
    cached = read + w5 + w1
    million = Decimal(1_000_000)
    read_cost = Decimal(read * rates.cache_read) / million
    write_cost = Decimal(w5 * rates.cache_write_5m + w1 * rates.cache_write_1h) / million
    tokens = (
        Decimal((inp - cached) * rates.input) / million
        + read_cost
        + write_cost
        + Decimal((out - reasoning) * rates.output) / million
        + Decimal(reasoning * rates.reasoning) / million
    )
    savings = Decimal(cached * rates.input) / million - read_cost - write_cost
    return _half_even(tokens), _half_even(savings)


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    inp, out = draw(TOKENS), draw(TOKENS)
    read = draw(st.integers(0, inp))
    w5 = draw(st.integers(0, inp - read))
    w1 = draw(st.integers(0, inp - read - w5))
    reasoning = draw(st.integers(0, out))
    return inp, out, read, w5, w1, reasoning


def _general(rates: ClassRates) -> ClassRates:
    """The same prices with the whole-nanos path switched off."""
    general = dataclasses.replace(rates)
    object.__setattr__(general, "per_token", None)
    return general


@settings(max_examples=400, deadline=None)
@given(usages(), st.tuples(WHOLE, WHOLE, WHOLE, WHOLE, WHOLE, WHOLE))
def test_whole_nano_prices_give_the_exact_costs_and_the_general_paths_parts(
    usage: Usage, prices: Prices
) -> None:
    rates = ClassRates(*prices)
    assert rates.per_token is not None

    fast = class_cost_parts(*usage, 3, rates, 7, 11)
    general = class_cost_parts(*usage, 3, _general(rates), 7, 11)

    assert fast == general
    assert (sum(fast[:5]), fast[6]) == _exact(usage, rates)
    assert fast[5] == 7 + 3 * 11


@settings(max_examples=400, deadline=None)
@given(usages(), st.tuples(ANY_PRICE, ANY_PRICE, ANY_PRICE, ANY_PRICE, ANY_PRICE, ANY_PRICE))
def test_any_prices_give_the_exact_total_and_savings(usage: Usage, prices: Prices) -> None:
    rates = ClassRates(*prices)

    parts = class_cost_parts(*usage, 0, rates, 0, 0)

    assert (sum(parts[:5]), parts[6]) == _exact(usage, rates)


def test_a_price_below_a_whole_nano_per_token_takes_the_general_path() -> None:
    rates = ClassRates(2_800_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000)

    assert rates.per_token is None
    # 3 tokens x 2.8 nanos = 8.4 -> 8; 1 x 1 nano of output.
    assert class_cost_parts(3, 1, 0, 0, 0, 0, 0, rates, 0, 0) == (8, 0, 0, 1, 0, 0, 0)
