"""Cost of one gateway request: provider cost from tokens, then the customer's price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.money import NANOS_PER_USD, half_even_div_positive, to_scaled_int

__all__ = [
    "BASIS_POINTS_PER_WHOLE",
    "MAX_REQUEST_COST_NANOS",
    "TOKENS_PER_PRICE_UNIT",
    "CostBreakdown",
    "basis_points_to_percent",
    "customer_cost",
    "percent_to_basis_points",
    "provider_cost_nanos",
]

TOKENS_PER_PRICE_UNIT = 1_000_000  # list prices are quoted per million tokens
BASIS_POINTS_PER_WHOLE = 10_000
# The most one request may cost, provider cost and customer cost alike: $10,000, 100x the
# priciest real LLM call (~$100: 200k tokens in, 100k out at $150/$600 per million). Every
# sum of costs is a signed 64-bit integer of nano-USD (at most 9.22e18 = $9.2e9): a batch of
# 10,000 such requests adds at most $1e8 (1e17 nanos, 1/92 of the range) to any sum, and a
# counter (a day's rollup row, a month's spend, the wallet) reaches the range only after
# $9.2e9 of spend in it. See docs/readme/ingest.md, "Bounds".
MAX_REQUEST_COST_NANOS = 10_000 * NANOS_PER_USD


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """All amounts in nano-USD; ``customer_cost_nanos`` is the sum of the other three."""

    provider_cost_nanos: int
    markup_nanos: int
    fixed_fee_nanos: int
    customer_cost_nanos: int


def _non_negative_int(name: str, value: int) -> int:
    # bool is an int subclass and float is never acceptable on the money path.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def provider_cost_nanos(
    input_tokens: int,
    output_tokens: int,
    input_price_per_million_nanos: int,
    output_price_per_million_nanos: int,
) -> int:
    """Return what the provider charges for the request, in nano-USD.

    Prices are nano-USD per one million tokens. The exact total is rounded once,
    half to even, to a whole nano, so input and output never round separately.
    Raises ``ValueError`` for negative token counts or prices, ``TypeError`` for
    non-int arguments.
    """
    return provider_cost_of(
        _non_negative_int("input_tokens", input_tokens),
        _non_negative_int("output_tokens", output_tokens),
        _non_negative_int("input_price_per_million_nanos", input_price_per_million_nanos),
        _non_negative_int("output_price_per_million_nanos", output_price_per_million_nanos),
    )


def provider_cost_of(input_tokens: int, output_tokens: int, price_in: int, price_out: int) -> int:
    """`provider_cost_nanos` for arguments already known to be non-negative ints."""
    numerator = input_tokens * price_in + output_tokens * price_out
    return half_even_div_positive(numerator, TOKENS_PER_PRICE_UNIT)


def markup_of(provider_cost_nanos: int, markup_basis_points: int) -> int:
    """The markup in nano-USD (provider x bps / 10_000, half to even), for non-negative
    ints already checked (see `customer_cost`)."""
    return half_even_div_positive(provider_cost_nanos * markup_basis_points, BASIS_POINTS_PER_WHOLE)


def customer_cost(
    provider_cost_nanos: int, markup_basis_points: int, fixed_fee_nanos: int
) -> CostBreakdown:
    """Return the customer's price breakdown, every field in nano-USD.

    markup = provider x bps / 10_000 rounded half to even to a nano;
    customer = provider + markup + fixed fee. Raises ``ValueError`` for negative
    inputs, ``TypeError`` for non-int arguments.
    """
    provider = _non_negative_int("provider_cost_nanos", provider_cost_nanos)
    bps = _non_negative_int("markup_basis_points", markup_basis_points)
    fee = _non_negative_int("fixed_fee_nanos", fixed_fee_nanos)
    markup = markup_of(provider, bps)
    return CostBreakdown(
        provider_cost_nanos=provider,
        markup_nanos=markup,
        fixed_fee_nanos=fee,
        customer_cost_nanos=provider + markup + fee,
    )


def percent_to_basis_points(value: Decimal | str | int) -> int:
    """Return the percentage ``value`` as exact basis points (``"12.5"`` -> 1250).

    Raises ``ValueError`` for non-numbers, negative values or more than 2 decimal
    places; ``TypeError`` for float or bool.
    """
    bps = to_scaled_int(value, 2, "markup percent")
    if bps < 0:
        raise ValueError(f"markup percent {value!r} must not be negative")
    return bps


def basis_points_to_percent(bps: int) -> Decimal:
    """Return basis points as an exact percentage with 2 decimals (2500 -> ``Decimal("25.00")``)."""
    if isinstance(bps, bool) or not isinstance(bps, int):
        raise TypeError(f"bps must be an int, got {type(bps).__name__}")
    # Built from the digit tuple: scaleb() would round beyond the context precision.
    digits = tuple(int(d) for d in str(abs(bps)))
    return Decimal((1 if bps < 0 else 0, digits, -2))
