"""Provider cost of one request per token class, and what prompt caching saved.

Usage follows the canonical record (docs/readme/pricing.md): `input_tokens` counts every
prompt token, cache reads and cache writes included; `output_tokens` counts every generated
token, reasoning included. So the uncached input is input - cache read - cache writes, and
the visible output is output - reasoning.

Exactness: each class's exact cost is tokens x price-per-million / 1e6. The provider cost
is the sum of the exact token costs rounded once (half to even) to a nano, plus the
per-request prices (whole nanos); a request with input and output only costs exactly what
`pricing.cost.provider_cost_nanos` says. Each class part is rounded half to even too, and
the rounding residue (a few nanos at most) is added to the largest token part, so the parts
always sum to the provider cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from pricing.cost import TOKENS_PER_PRICE_UNIT
from pricing.money import half_even_div_positive
from pricing.rates import ClassRates

__all__ = ["ClassCosts", "TokenUsage", "class_cost_parts", "class_costs"]


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """One request's usage in the canonical meaning (all non-negative, subsets checked by
    validation): cache reads and writes are part of `input_tokens`, reasoning is part of
    `output_tokens`; `request_units` are billable units such as images."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    request_units: int = 0

    @property
    def cached_tokens(self) -> int:
        """Prompt tokens read from or written to a cache."""
        return self.cache_read_tokens + self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cached_tokens

    @property
    def visible_output_tokens(self) -> int:
        return self.output_tokens - self.reasoning_tokens


@dataclass(frozen=True, slots=True)
class ClassCosts:
    """Nano-USD per class; `total` (the provider cost) is the sum of the six parts.

    `cache_savings` is what the cached tokens (reads and writes) would have cost at the
    uncached input price minus what they cost: negative when writes cost more than the
    reads they enabled saved.
    """

    input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0
    request: int = 0
    cache_savings: int = 0

    @property
    def total(self) -> int:
        return (
            self.input
            + self.cache_read
            + self.cache_write
            + self.output
            + self.reasoning
            + self.request
        )


def class_costs(
    usage: TokenUsage,
    rates: ClassRates,
    *,
    per_request_nanos: int = 0,
    per_unit_nanos: int = 0,
    successful: bool = True,
) -> ClassCosts:
    """The request's provider cost per class in nano-USD (rules in the module docstring).

    The per-request price applies to successful requests only (like the fixed fee); units
    are charged as reported.
    """
    return ClassCosts(
        *class_cost_parts(
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_5m_tokens,
            usage.cache_write_1h_tokens,
            usage.reasoning_tokens,
            usage.request_units,
            rates,
            per_request_nanos if successful else 0,
            per_unit_nanos,
        )
    )


def class_cost_parts(
    input_tokens: int,
    output_tokens: int,
    cache_read: int,
    cache_write_5m: int,
    cache_write_1h: int,
    reasoning: int,
    request_units: int,
    rates: ClassRates,
    request_nanos: int,
    per_unit_nanos: int,
) -> tuple[int, int, int, int, int, int, int]:
    """`class_costs` on plain ints (validated, canonical), for ingest's per-record loop:
    (input, cache read, cache write, output, reasoning, request, cache savings) in nano-USD.
    `request_nanos` is the per-request price already decided for the request's status."""
    request = request_nanos + request_units * per_unit_nanos
    per_token = rates.per_token
    if per_token is not None:
        # Whole nanos per token (pricing/rates.py): every exact class cost is an int, so
        # nothing rounds, there is no residue, and the result is the general path's.
        p_in, p_out, p_read, p_write_5m, p_write_1h, p_reasoning = per_token
        if not (cache_read or cache_write_5m or cache_write_1h or reasoning):
            return input_tokens * p_in, 0, 0, output_tokens * p_out, 0, request, 0
        cached = cache_read + cache_write_5m + cache_write_1h
        read = cache_read * p_read
        write = cache_write_5m * p_write_5m + cache_write_1h * p_write_1h
        return (
            (input_tokens - cached) * p_in,
            read,
            write,
            (output_tokens - reasoning) * p_out,
            reasoning * p_reasoning,
            request,
            cached * p_in - read - write,
        )
    if not (cache_read or cache_write_5m or cache_write_1h or reasoning):
        # Input and output only (most traffic): two parts, no savings.
        exact_in, exact_out = input_tokens * rates.input, output_tokens * rates.output
        total = half_even_div_positive(exact_in + exact_out, TOKENS_PER_PRICE_UNIT)
        part_in = half_even_div_positive(exact_in, TOKENS_PER_PRICE_UNIT)
        part_out = half_even_div_positive(exact_out, TOKENS_PER_PRICE_UNIT)
        residue = total - part_in - part_out
        if residue:
            if exact_in >= exact_out:
                part_in += residue
            else:
                part_out += residue
        return part_in, 0, 0, part_out, 0, request, 0
    cached = cache_read + cache_write_5m + cache_write_1h
    exact = [
        (input_tokens - cached) * rates.input,
        cache_read * rates.cache_read,
        cache_write_5m * rates.cache_write_5m + cache_write_1h * rates.cache_write_1h,
        (output_tokens - reasoning) * rates.output,
        reasoning * rates.reasoning,
    ]
    tokens_total = half_even_div_positive(sum(exact), TOKENS_PER_PRICE_UNIT)
    parts = [half_even_div_positive(n, TOKENS_PER_PRICE_UNIT) for n in exact]
    residue = tokens_total - sum(parts)
    if residue:
        largest = max(range(len(parts)), key=exact.__getitem__)
        parts[largest] += residue
    # Signed: floor division keeps half-to-even rounding right for negative savings too.
    savings = half_even_div_positive(
        cached * rates.input - exact[1] - exact[2], TOKENS_PER_PRICE_UNIT
    )
    return parts[0], parts[1], parts[2], parts[3], parts[4], request, savings
