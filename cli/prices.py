"""`aize-analytics prices list|set|import` and `aize-analytics reprice`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cli.commands import CommandError
from ingestion.catalog_store import load_catalog, save_prices
from ingestion.reprice import reprice
from models.organization import Organization
from pricing.catalog import ModelPrice, parse_catalog
from pricing.money import format_usd, usd_to_nanos
from pricing.rates import TokenPrices

# `prices set` options for the optional token classes: option -> ModelPrice / TokenPrices
# name (USD per million tokens; absent = the class's fallback, pricing/rates.py).
_CLASS_OPTIONS = {
    "--cache-read": "cache_read",
    "--cache-write-5m": "cache_write_5m",
    "--cache-write-1h": "cache_write_1h",
    "--reasoning": "reasoning",
}
# The keys of one `--tier` value: key -> TokenPrices name.
_TIER_KEYS = {
    "above": "above_input_tokens",
    "input": "input",
    "output": "output",
    **{option.removeprefix("--"): name for option, name in _CLASS_OPTIONS.items()},
}
_TIER_FORMAT = (
    "above=TOKENS,input=USD,output=USD[,cache-read=USD][,cache-write-5m=USD]"
    "[,cache-write-1h=USD][,reasoning=USD]"
)
# `prices list` columns after model and provider: (header, width).
_COLUMNS = (
    ("input/M", 9),
    ("output/M", 9),
    ("c.read/M", 9),
    ("c.wr5m/M", 9),
    ("c.wr1h/M", 9),
    ("reason/M", 9),
    ("per req", 9),
    ("per unit", 9),
)
_FALLBACK_NOTE = (
    "- = the class's fallback: cache read and cache write 5m -> input, cache write 1h -> "
    "cache write 5m, reasoning -> output; USD per million tokens, per request, per unit"
)


def add_price_parsers(sub: Any) -> None:
    """Register `prices` (list, set, import) and `reprice` on the CLI's subparsers."""
    prices = sub.add_parser("prices", help="show or change the model price catalog")
    actions = prices.add_subparsers(dest="prices_command", required=True)
    listing = actions.add_parser(
        "list", help="every price version in effect (shipped + stored), per token class"
    )
    listing.add_argument("--model", help="only this model")
    setter = actions.add_parser(
        "set", help="add a price version for a model (USD per million tokens per class)"
    )
    setter.add_argument("model")
    setter.add_argument("--provider", required=True, help="e.g. openai, anthropic")
    setter.add_argument("--input", required=True, help="USD per million uncached input tokens")
    setter.add_argument("--output", required=True, help="USD per million output tokens")
    setter.add_argument("--cache-read", help="USD per million cache-read tokens (default: input)")
    setter.add_argument(
        "--cache-write-5m", help="USD per million 5-minute cache-write tokens (default: input)"
    )
    setter.add_argument(
        "--cache-write-1h",
        help="USD per million 1-hour cache-write tokens (default: the 5-minute write price)",
    )
    setter.add_argument("--reasoning", help="USD per million reasoning tokens (default: output)")
    setter.add_argument("--per-request", help="USD per successful (2xx) request (default: 0)")
    setter.add_argument("--per-unit", help="USD per billable unit, e.g. an image (default: 0)")
    setter.add_argument(
        "--tier",
        action="append",
        default=[],
        metavar="SPEC",
        help=f"a context-length tier, repeatable: {_TIER_FORMAT} "
        "(requests with more than `above` input tokens pay these prices)",
    )
    setter.add_argument(
        "--effective-from",
        help="ISO date or date-time with offset (default: today, 00:00 UTC)",
    )
    importer = actions.add_parser("import", help="store every version from a JSON catalog file")
    importer.add_argument("file", help='{"prices": [...]} as in pricing/prices.json')

    again = sub.add_parser("reprice", help="price logs stored unpriced once a price exists")
    again.add_argument("--org", help="organization slug or id (default: all)")


async def prices_command(args: argparse.Namespace) -> str:
    if args.prices_command == "list":
        return await _list(args.model)
    if args.prices_command == "set":
        price = _price_from_args(args)
        await save_prices([price])
        return (
            f"stored {price.model} ({price.provider}) from "
            f"{price.effective_from.isoformat()}:\n{_describe(price)}"
        )
    return await _import(Path(args.file))


async def reprice_command(args: argparse.Namespace) -> str:
    organization_id: int | None = None
    if args.org:
        ref = args.org
        org = await (
            Organization.get_or_none(id=int(ref))
            if ref.isdigit()
            else Organization.get_or_none(slug=ref)
        )
        if org is None:
            raise CommandError(f"no organization {ref!r}")
        organization_id = org.id
    result = await reprice(organization_id)
    return (
        f"repriced {result.repriced} logs (charged ${format_usd(result.charged_nanos)}); "
        f"{result.still_unpriced} still have no price"
    )


def _cell(nanos: int | None) -> str:
    return "-" if nanos is None else format_usd(nanos)


def _class_cells(prices: TokenPrices) -> list[str]:
    return [
        _cell(prices.input),
        _cell(prices.output),
        _cell(prices.cache_read),
        _cell(prices.cache_write_5m),
        _cell(prices.cache_write_1h),
        _cell(prices.reasoning),
    ]


def _row(first: str, cells: list[str]) -> str:
    return first + " ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, _COLUMNS, strict=False))


async def _list(model: str | None) -> str:
    catalog = await load_catalog()
    rows: list[str] = []
    for p in catalog.entries():
        if model is not None and p.model.casefold() != model.casefold():
            continue
        cells = [*_class_cells(p.base_prices()), format_usd(p.per_request_nanos)]
        cells.append(format_usd(p.per_unit_nanos))
        rows.append(
            _row(f"{p.model:<24} {p.provider:<10} ", cells)
            + f"  {p.effective_from.date().isoformat()}"
        )
        rows.extend(
            _row(
                f"{'  above ' + str(t.above_input_tokens) + ' input tokens':<35} ", _class_cells(t)
            )
            for t in p.tiers
        )
    if not rows:
        raise CommandError(f"no price for model {model!r}")
    header = _row(f"{'model':<24} {'provider':<10} ", [h for h, _ in _COLUMNS])
    return "\n".join([header + "  effective from", *rows, _FALLBACK_NOTE])


def _describe(price: ModelPrice) -> str:
    """The stored version, one `name $USD` per priced class (for `prices set`)."""

    def classes(prices: TokenPrices) -> str:
        named = [("input", prices.input), ("output", prices.output)]
        named += [(o.removeprefix("--"), getattr(prices, n)) for o, n in _CLASS_OPTIONS.items()]
        return ", ".join(f"{label} ${format_usd(v)}" for label, v in named if v is not None)

    lines = [f"  per million tokens: {classes(price.base_prices())}"]
    if price.per_request_nanos or price.per_unit_nanos:
        lines.append(
            f"  per request ${format_usd(price.per_request_nanos)}, "
            f"per unit ${format_usd(price.per_unit_nanos)}"
        )
    lines += [
        f"  above {t.above_input_tokens} input tokens, per million: {classes(t)}"
        for t in price.tiers
    ]
    return "\n".join(lines)


def _price_from_args(args: argparse.Namespace) -> ModelPrice:
    classes = {
        f"{name}_per_million_nanos": _usd(getattr(args, name), option)
        for option, name in _CLASS_OPTIONS.items()
        if getattr(args, name) is not None
    }
    tiers = tuple(_tier(text, position) for position, text in enumerate(args.tier, start=1))
    thresholds = [t.above_input_tokens for t in tiers]
    if len(set(thresholds)) != len(thresholds):
        raise CommandError("--tier: two tiers have the same above= threshold")
    try:
        return ModelPrice(
            model=args.model,
            provider=args.provider,
            input_per_million_nanos=_usd(args.input, "--input"),
            output_per_million_nanos=_usd(args.output, "--output"),
            effective_from=_instant(args.effective_from),
            per_request_nanos=_optional_usd(args.per_request, "--per-request"),
            per_unit_nanos=_optional_usd(args.per_unit, "--per-unit"),
            tiers=tuple(sorted(tiers, key=lambda t: t.above_input_tokens or 0)),
            **classes,
        )
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None


def _tier(text: str, position: int) -> TokenPrices:
    """One `--tier` value as TokenPrices; errors name the tier's position and key."""
    where = f"--tier #{position} ({text!r})"
    values: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().casefold()
        if not sep or not value.strip():
            raise CommandError(f"{where}: expected key=value pairs like {_TIER_FORMAT}")
        if key not in _TIER_KEYS:
            raise CommandError(f"{where}: unknown key {key!r} (known: {', '.join(_TIER_KEYS)})")
        if key in values:
            raise CommandError(f"{where}: {key}= given twice")
        values[key] = value.strip()
    for key in ("above", "input", "output"):
        if key not in values:
            raise CommandError(f"{where}: {key}= is missing ({_TIER_FORMAT})")
    above = values.pop("above")
    if not above.isascii() or not above.isdigit():
        raise CommandError(f"{where}: above={above!r} is not a whole number of input tokens")
    prices = {_TIER_KEYS[k]: _usd(v, f"{where} {k}=") for k, v in values.items()}
    return TokenPrices(above_input_tokens=int(above), **prices)


def _usd(text: str, option: str) -> int:
    try:
        nanos = usd_to_nanos(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}") from None
    if nanos < 0:
        raise CommandError(f"{option}: a price must not be negative")
    return nanos


def _optional_usd(text: str | None, option: str) -> int:
    return 0 if text is None else _usd(text, option)


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--effective-from: {text!r} is not an ISO date") from None
    if instant.utcoffset() is None:
        raise CommandError("--effective-from: a date-time needs a UTC offset")
    return instant.astimezone(UTC)


async def _import(path: Path) -> str:
    try:
        catalog = parse_catalog(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CommandError(f"{path}: {exc}") from None
    count = await save_prices(catalog.entries())
    return f"stored {count} price versions from {path}"
