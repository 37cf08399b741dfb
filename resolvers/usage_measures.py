"""UsageMeasures: exact sums of requests, tokens, money and latency, and the ratios built
from them.

Every sum is a Python int (nano-USD for money, milliseconds for latency); ratios are exact
decimals rounded half-even only at the ninth decimal place, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from models.rollup import MEASURE_COLUMNS
from pricing.money import round_half_even_div

# Ratios (rates, averages, growth) are presented with at most this many decimals.
RATIO_PLACES = 9


@dataclass(slots=True)
class UsageMeasures:
    """Sums over a set of requests; field order is `models.rollup.MEASURE_COLUMNS`."""

    requests: int = 0
    successful: int = 0
    client_errors: int = 0
    server_errors: int = 0
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    provider_cost_nanos: int = 0
    markup_nanos: int = 0
    fixed_fee_nanos: int = 0
    customer_cost_nanos: int = 0
    latency_ms_sum: int = 0
    # Token classes (subsets of input/output tokens) and per-request units.
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    request_units: int = 0
    # Provider cost per class and what caching saved (signed), nano-USD.
    input_cost_nanos: int = 0
    cache_read_cost_nanos: int = 0
    cache_write_cost_nanos: int = 0
    output_cost_nanos: int = 0
    reasoning_cost_nanos: int = 0
    request_cost_nanos: int = 0
    cache_savings_nanos: int = 0

    def add(self, other: UsageMeasures) -> None:
        """Add `other` into these sums, in place."""
        # Spelled out: readers add thousands of these per request, and a loop over
        # dataclasses.fields() with getattr/setattr costs several times more.
        self.requests += other.requests
        self.successful += other.successful
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.unpriced += other.unpriced
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.provider_cost_nanos += other.provider_cost_nanos
        self.markup_nanos += other.markup_nanos
        self.fixed_fee_nanos += other.fixed_fee_nanos
        self.customer_cost_nanos += other.customer_cost_nanos
        self.latency_ms_sum += other.latency_ms_sum
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_5m_tokens += other.cache_write_5m_tokens
        self.cache_write_1h_tokens += other.cache_write_1h_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.request_units += other.request_units
        self.input_cost_nanos += other.input_cost_nanos
        self.cache_read_cost_nanos += other.cache_read_cost_nanos
        self.cache_write_cost_nanos += other.cache_write_cost_nanos
        self.output_cost_nanos += other.output_cost_nanos
        self.reasoning_cost_nanos += other.reasoning_cost_nanos
        self.request_cost_nanos += other.request_cost_nanos
        self.cache_savings_nanos += other.cache_savings_nanos

    def subtract(self, other: UsageMeasures) -> None:
        """Take `other` out of these sums, in place (a signed slice's rows, rare enough not
        to need spelling out like `add`)."""
        for column in MEASURE_COLUMNS:
            setattr(self, column, getattr(self, column) - getattr(other, column))

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cache_write_tokens(self) -> int:
        """Prompt tokens written to a cache, both lifetimes."""
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    def cache_hit_rate_percent(self) -> Decimal | None:
        """cache read tokens / input tokens x 100 (input counts every prompt token, cached
        ones included), exact to 9 decimals; None without input tokens."""
        return percent(self.cache_read_tokens, self.input_tokens)

    @property
    def failed(self) -> int:
        """Requests that did not answer 2xx (4xx, 5xx and any other non-2xx code)."""
        return self.requests - self.successful

    def success_rate_percent(self) -> Decimal | None:
        """2xx / total x 100, exact to 9 decimals; None when there are no requests."""
        return percent(self.successful, self.requests)

    def error_rate_percent(self) -> Decimal | None:
        """Non-2xx / total x 100, exact to 9 decimals; None when there are no requests."""
        return percent(self.failed, self.requests)

    def average_cost_nanos(self) -> int | None:
        """Customer cost per request in nano-USD (rounded half-even); None without requests."""
        if self.requests == 0:
            return None
        return round_half_even_div(self.customer_cost_nanos, self.requests)

    def average_latency_ms(self) -> Decimal | None:
        """Mean latency in milliseconds, exact to 9 decimals; None without requests."""
        return ratio(self.latency_ms_sum, self.requests)


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a Decimal rounded half-even to 9 decimals, trailing zeros
    dropped (never scientific notation); None when the denominator is 0."""
    if denominator == 0:
        return None
    scaled = round_half_even_div(numerator * 10**RATIO_PLACES, denominator)
    return fixed_point(scaled, RATIO_PLACES, strip=True)


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole x 100 (see `ratio`); None when `whole` is 0."""
    return ratio(part * 100, whole)


def growth_percent(current: int, previous: int) -> Decimal | None:
    """(current - previous) / previous x 100 (see `ratio`); None when `previous` is 0."""
    return ratio((current - previous) * 100, previous)


def fixed_point(scaled: int, places: int, *, strip: bool = False) -> Decimal:
    """The exact Decimal scaled x 10**-places, built digit by digit so no context precision
    can round it; `strip` drops trailing fractional zeros ("1.50" -> "1.5", "2.00" -> "2")."""
    magnitude, exponent = abs(scaled), -places
    if strip:
        while exponent < 0 and magnitude and magnitude % 10 == 0:
            magnitude //= 10
            exponent += 1
        if magnitude == 0:
            exponent = 0
    digits = tuple(int(d) for d in str(magnitude))
    return Decimal((1 if scaled < 0 else 0, digits, exponent))
