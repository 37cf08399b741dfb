"""Versioned model price catalog: which list price applied to a model at a given time."""

from __future__ import annotations

import dataclasses
import json
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from pricing.money import format_usd, usd_to_nanos
from pricing.rates import ClassRates, TokenPrices

__all__ = [
    "ModelPrice",
    "PriceCatalog",
    "class_price_fields",
    "dump_catalog",
    "load_default_catalog",
    "parse_catalog",
    "with_class_price_fields",
]

_FIELDS = (
    "model",
    "provider",
    "input_per_million_usd",
    "output_per_million_usd",
    "effective_from",
)
# Optional per-class prices (USD per million tokens) of an entry and of a tier; absent =
# the class's fallback (pricing/rates.py).
_CLASS_FIELDS = {
    "cache_read_per_million_usd": "cache_read",
    "cache_write_5m_per_million_usd": "cache_write_5m",
    "cache_write_1h_per_million_usd": "cache_write_1h",
    "reasoning_per_million_usd": "reasoning",
}
# Optional per-request prices of an entry (USD): per successful request, per billable unit.
_REQUEST_FIELDS = {"per_request_usd": "per_request_nanos", "per_unit_usd": "per_unit_nanos"}
_OPTIONAL_FIELDS = (*_CLASS_FIELDS, *_REQUEST_FIELDS, "tiers")
_TIER_FIELDS = (
    "above_input_tokens",
    "input_per_million_usd",
    "output_per_million_usd",
    *_CLASS_FIELDS,
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """List price of one model from ``effective_from`` (aware, stored as UTC) on.

    Token prices are nano-USD per one million tokens; the per-class ones are None when the
    class falls back (pricing/rates.py). `per_request_nanos` is charged once per successful
    request, `per_unit_nanos` per billable unit (an image, a search) the record reports.
    `tiers` (ascending `above_input_tokens`) replace every token price of a request whose
    input_tokens exceed a tier's threshold (the highest such tier wins).
    """

    model: str
    provider: str
    input_per_million_nanos: int
    output_per_million_nanos: int
    effective_from: datetime
    cache_read_per_million_nanos: int | None = None
    cache_write_5m_per_million_nanos: int | None = None
    cache_write_1h_per_million_nanos: int | None = None
    reasoning_per_million_nanos: int | None = None
    per_request_nanos: int = 0
    per_unit_nanos: int = 0
    tiers: tuple[TokenPrices, ...] = ()
    # The resolved rates below every tier, then of each tier (computed once).
    _rates: tuple[ClassRates, ...] = dataclasses.field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.model or not self.provider:
            raise ValueError("ModelPrice needs a non-empty model and provider")
        # TokenPrices checks the class prices' types and signs.
        self.base_prices()
        thresholds = [t.above_input_tokens for t in self.tiers]
        if any(t is None for t in thresholds) or thresholds != sorted(set(thresholds)):  # type: ignore[type-var]
            raise ValueError("tiers need distinct above_input_tokens in ascending order")
        for name in (
            "input_per_million_nanos",
            "output_per_million_nanos",
            "per_request_nanos",
            "per_unit_nanos",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int of nano-USD, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if not isinstance(self.effective_from, datetime):
            raise TypeError("effective_from must be a datetime")
        if self.effective_from.utcoffset() is None:
            raise ValueError("effective_from must be timezone-aware")
        # Normalize so equal instants compare and print identically.
        object.__setattr__(self, "effective_from", self.effective_from.astimezone(UTC))
        rates = (self.base_prices().resolved(), *(t.resolved() for t in self.tiers))
        object.__setattr__(self, "_rates", rates)

    def base_prices(self) -> TokenPrices:
        """The token prices below every tier threshold."""
        return TokenPrices(
            input=self.input_per_million_nanos,
            output=self.output_per_million_nanos,
            cache_read=self.cache_read_per_million_nanos,
            cache_write_5m=self.cache_write_5m_per_million_nanos,
            cache_write_1h=self.cache_write_1h_per_million_nanos,
            reasoning=self.reasoning_per_million_nanos,
        )

    def rates_for(self, input_tokens: int) -> ClassRates:
        """The resolved per-class prices (nano-USD per million tokens) for a request with
        `input_tokens` prompt tokens (cached ones included): the highest tier whose
        threshold it exceeds, else the base prices."""
        if not self.tiers:
            return self._rates[0]
        chosen = 0
        for position, tier in enumerate(self.tiers, start=1):
            assert tier.above_input_tokens is not None
            if input_tokens > tier.above_input_tokens:
                chosen = position
        return self._rates[chosen]

    @property
    def has_request_prices(self) -> bool:
        return bool(self.per_request_nanos or self.per_unit_nanos)


def _key(model: str) -> str:
    return model.casefold()


class PriceCatalog:
    """Immutable set of ``ModelPrice`` versions, looked up by model and instant."""

    __slots__ = ("_by_model", "_starts")

    def __init__(self, prices: Iterable[ModelPrice]) -> None:
        by_model: dict[str, list[ModelPrice]] = {}
        for price in prices:
            by_model.setdefault(_key(price.model), []).append(price)
        for key, versions in by_model.items():
            versions.sort(key=lambda p: p.effective_from)
            for older, newer in pairwise(versions):
                if older.effective_from == newer.effective_from:
                    raise ValueError(
                        f"duplicate price for model {key!r} effective {newer.effective_from}"
                    )
        self._by_model = by_model
        self._starts = {k: [p.effective_from for p in v] for k, v in by_model.items()}

    def price_for(self, model: str, at: datetime) -> ModelPrice | None:
        """Return the version of ``model`` in effect at ``at`` (aware), or ``None``.

        That is the entry with the latest ``effective_from <= at``; model names match
        case-insensitively and otherwise exactly (no alias resolution).
        """
        if at.utcoffset() is None:
            raise ValueError("at must be timezone-aware")
        key = _key(model)
        index = bisect_right(self._starts.get(key, []), at)
        return self._by_model[key][index - 1] if index else None

    def provider_of(self, model: str) -> str | None:
        """Return the provider of ``model`` as its latest entry names it (case-insensitive
        model match, any effective date: a model keeps its provider), or ``None``."""
        versions = self._by_model.get(_key(model))
        return versions[-1].provider if versions else None

    def models(self) -> list[str]:
        """Return the sorted model names, one per model, spelled as in its latest entry."""
        return sorted(versions[-1].model for versions in self._by_model.values())

    def entries(self) -> list[ModelPrice]:
        """Return every version, sorted by (model, effective_from)."""
        return [p for key in sorted(self._by_model) for p in self._by_model[key]]

    def with_price(self, price: ModelPrice) -> PriceCatalog:
        """Return a new catalog with ``price`` added, replacing the same model and start."""
        kept = [
            p
            for p in self.entries()
            if not (_key(p.model) == _key(price.model) and p.effective_from == price.effective_from)
        ]
        return PriceCatalog([*kept, price])


def _field_error(index: int, field: str, problem: str) -> ValueError:
    return ValueError(f"prices[{index}] field {field!r}: {problem}")


def _parse_usd(index: int, field: str, raw: object) -> int:
    # JSON numbers with a fraction are parsed as Decimal (never float) only to be refused.
    if isinstance(raw, Decimal):
        raise _field_error(
            index, field, f'JSON number {raw} is not allowed; write it as a string like "2.50"'
        )
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _field_error(index, field, f"expected a decimal string, got {type(raw).__name__}")
    try:
        nanos = usd_to_nanos(raw)
    except ValueError as exc:
        raise _field_error(index, field, str(exc)) from None
    if nanos < 0:
        raise _field_error(index, field, "price must not be negative")
    return nanos


def _parse_instant(index: int, raw: object) -> datetime:
    field = "effective_from"
    if not isinstance(raw, str):
        raise _field_error(index, field, f"expected an ISO date string, got {type(raw).__name__}")
    try:
        if _ISO_DATE.fullmatch(raw):
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise _field_error(index, field, f"{raw!r} is not an ISO date or datetime") from None
    if instant.utcoffset() is None:
        raise _field_error(index, field, f"{raw!r} needs a UTC offset (e.g. +00:00)")
    return instant.astimezone(UTC)


def _parse_tier(index: int, position: int, raw: object) -> TokenPrices:
    where = f"tiers[{position}]"
    if not isinstance(raw, dict):
        raise _field_error(index, where, f"expected an object, got {type(raw).__name__}")
    for field in raw:
        if field not in _TIER_FIELDS:
            raise _field_error(index, f"{where}.{field}", "unknown field")
    for field in _TIER_FIELDS[:3]:
        if field not in raw:
            raise _field_error(index, f"{where}.{field}", "missing")
    threshold = raw["above_input_tokens"]
    if type(threshold) is not int or threshold < 0:
        raise _field_error(
            index, f"{where}.above_input_tokens", "expected a non-negative whole number"
        )
    classes = {
        name: _parse_usd(index, f"{where}.{field}", raw[field])
        for field, name in _CLASS_FIELDS.items()
        if field in raw
    }
    return TokenPrices(
        input=_parse_usd(index, f"{where}.input_per_million_usd", raw["input_per_million_usd"]),
        output=_parse_usd(index, f"{where}.output_per_million_usd", raw["output_per_million_usd"]),
        above_input_tokens=threshold,
        **classes,
    )


def _parse_optional(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    """The ModelPrice keyword arguments of an entry's optional fields."""
    extra: dict[str, Any] = {
        f"{name}_per_million_nanos": _parse_usd(index, field, entry[field])
        for field, name in _CLASS_FIELDS.items()
        if field in entry
    }
    for field, name in _REQUEST_FIELDS.items():
        if field in entry:
            extra[name] = _parse_usd(index, field, entry[field])
    if "tiers" in entry:
        raw_tiers = entry["tiers"]
        if not isinstance(raw_tiers, list):
            raise _field_error(index, "tiers", "expected a list of tiers")
        tiers = tuple(_parse_tier(index, i, t) for i, t in enumerate(raw_tiers))
        thresholds = [t.above_input_tokens for t in tiers]
        if thresholds != sorted(set(thresholds)):  # type: ignore[type-var]
            raise _field_error(index, "tiers", "above_input_tokens must be distinct and ascending")
        extra["tiers"] = tiers
    return extra


def _parse_entry(index: int, entry: object) -> ModelPrice:
    if not isinstance(entry, dict):
        raise ValueError(f"prices[{index}]: expected an object, got {type(entry).__name__}")
    for field in _FIELDS:
        if field not in entry:
            raise _field_error(index, field, "missing")
    for field in entry:
        if field not in _FIELDS and field not in _OPTIONAL_FIELDS:
            raise _field_error(index, field, "unknown field")
    for field in ("model", "provider"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise _field_error(index, field, "expected a non-empty string")
    return ModelPrice(
        model=entry["model"],
        provider=entry["provider"],
        input_per_million_nanos=_parse_usd(
            index, "input_per_million_usd", entry["input_per_million_usd"]
        ),
        output_per_million_nanos=_parse_usd(
            index, "output_per_million_usd", entry["output_per_million_usd"]
        ),
        effective_from=_parse_instant(index, entry["effective_from"]),
        **_parse_optional(index, entry),
    )


def class_price_fields(price: ModelPrice) -> dict[str, Any]:
    """The price's optional JSON fields (class prices, per-request prices, tiers), in the
    catalog file's format; empty for a plain input/output price."""
    fields: dict[str, Any] = {}
    for field, name in _CLASS_FIELDS.items():
        value = getattr(price, f"{name}_per_million_nanos")
        if value is not None:
            fields[field] = format_usd(value)
    for field, name in _REQUEST_FIELDS.items():
        if getattr(price, name):
            fields[field] = format_usd(getattr(price, name))
    if price.tiers:
        fields["tiers"] = [_tier_fields(tier) for tier in price.tiers]
    return fields


def _tier_fields(tier: TokenPrices) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "above_input_tokens": tier.above_input_tokens,
        "input_per_million_usd": format_usd(tier.input),
        "output_per_million_usd": format_usd(tier.output),
    }
    for field, name in _CLASS_FIELDS.items():
        value = getattr(tier, name)
        if value is not None:
            fields[field] = format_usd(value)
    return fields


def with_class_price_fields(price: ModelPrice, fields: dict[str, Any]) -> ModelPrice:
    """`price` with the optional fields of `class_price_fields` (as stored) applied.
    Raises ValueError naming the field when one is malformed."""
    for field in fields:
        if field not in _OPTIONAL_FIELDS:
            raise _field_error(0, field, "unknown field")
    return replace(price, **_parse_optional(0, fields))


def parse_catalog(text: str) -> PriceCatalog:
    """Return the catalog described by JSON ``text`` (``{"prices": [...]}``).

    Raises ``ValueError`` naming the entry index and field on any bad entry.
    """
    try:
        # parse_float/parse_constant keep floats, NaN and Infinity out of memory entirely.
        document: Any = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"price catalog is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("prices"), list):
        raise ValueError('price catalog must be an object with a "prices" list')
    prices: list[ModelPrice] = []
    seen: set[tuple[str, datetime]] = set()
    for index, entry in enumerate(document["prices"]):
        price = _parse_entry(index, entry)
        version = (_key(price.model), price.effective_from)
        if version in seen:
            raise _field_error(
                index, "effective_from", "same model and effective_from as an earlier entry"
            )
        seen.add(version)
        prices.append(price)
    return PriceCatalog(prices)


def _format_instant(instant: datetime) -> str:
    if instant.time() == datetime.min.time():
        return instant.date().isoformat()
    return instant.isoformat()


def dump_catalog(catalog: PriceCatalog) -> str:
    """Return ``catalog`` as JSON text in the format ``parse_catalog`` reads."""
    prices = [
        {
            "model": p.model,
            "provider": p.provider,
            "input_per_million_usd": format_usd(p.input_per_million_nanos),
            "output_per_million_usd": format_usd(p.output_per_million_nanos),
            "effective_from": _format_instant(p.effective_from),
            **class_price_fields(p),
        }
        for p in catalog.entries()
    ]
    return json.dumps({"prices": prices}, indent=2) + "\n"


@cache
def load_default_catalog() -> PriceCatalog:
    """Return the catalog shipped in ``pricing/prices.json`` (cached; catalogs are immutable)."""
    text = resources.files("pricing").joinpath("prices.json").read_text(encoding="utf-8")
    return parse_catalog(text)
