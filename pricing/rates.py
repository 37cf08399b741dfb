"""Prices per token class: what one million tokens of each class cost, with the fallbacks
for classes a price does not name, and context-length tiers.

Token classes (the canonical meaning of a usage record, docs/readme/pricing.md):
- input: prompt tokens read without a cache (input_tokens minus cache reads and writes);
- cache read: prompt tokens served from a prompt cache;
- cache write 5m / 1h: prompt tokens written to a cache with a 5-minute (the default
  lifetime) or a 1-hour lifetime;
- output: generated tokens that are not reasoning;
- reasoning: generated "thinking" tokens.

Fallbacks, when a price leaves a class out: cache read, cache write 5m -> input;
cache write 1h -> cache write 5m (-> input); reasoning -> output. A tier falls back within
itself the same way (its cache read price is its own input price when it names none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ClassRates", "TokenPrices"]

# Prices are nano-USD per this many tokens (pricing.cost.TOKENS_PER_PRICE_UNIT; not imported:
# pricing.cost would import this module's users back).
_TOKENS_PER_PRICE = 1_000_000


def _check_price(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of nano-USD, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True, slots=True)
class ClassRates:
    """Resolved nano-USD per one million tokens of every class (no fallbacks left).

    `per_token` is the same six prices in nano-USD per token, in this order, when every one
    is a whole number of nanos per token (a multiple of $0.001 per million, as nearly every
    list price is), else None: a class cost is then tokens x that int, exact with no
    rounding, which is what `pricing.class_cost` computes fastest.
    """

    input: int
    output: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    reasoning: int
    per_token: tuple[int, int, int, int, int, int] | None = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        prices = (
            self.input,
            self.output,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
            self.reasoning,
        )
        whole = all(price % _TOKENS_PER_PRICE == 0 for price in prices)
        per_token = tuple(price // _TOKENS_PER_PRICE for price in prices) if whole else None
        object.__setattr__(self, "per_token", per_token)


@dataclass(frozen=True, slots=True)
class TokenPrices:
    """Nano-USD per one million tokens per class; None = use the class's fallback.

    As a tier (`above_input_tokens` set), these prices apply to a whole request whose
    input_tokens (all prompt tokens, cached ones included) exceed `above_input_tokens`.
    """

    input: int
    output: int
    cache_read: int | None = None
    cache_write_5m: int | None = None
    cache_write_1h: int | None = None
    reasoning: int | None = None
    above_input_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("input", "output"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} price is required")
        for name in (
            "input",
            "output",
            "cache_read",
            "cache_write_5m",
            "cache_write_1h",
            "reasoning",
            "above_input_tokens",
        ):
            _check_price(name, getattr(self, name))

    def resolved(self) -> ClassRates:
        """Every class's price with the fallbacks above applied."""
        write_5m = self.input if self.cache_write_5m is None else self.cache_write_5m
        return ClassRates(
            input=self.input,
            output=self.output,
            cache_read=self.input if self.cache_read is None else self.cache_read,
            cache_write_5m=write_5m,
            cache_write_1h=write_5m if self.cache_write_1h is None else self.cache_write_1h,
            reasoning=self.output if self.reasoning is None else self.reasoning,
        )
