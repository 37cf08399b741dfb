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


def add_price_parsers(sub: Any) -> None:
    """Register `prices` (list, set, import) and `reprice` on the CLI's subparsers."""
    prices = sub.add_parser("prices", help="show or change the model price catalog")
    actions = prices.add_subparsers(dest="prices_command", required=True)
    listing = actions.add_parser("list", help="every price version in effect (shipped + stored)")
    listing.add_argument("--model", help="only this model")
    setter = actions.add_parser("set", help="add a price version for a model")
    setter.add_argument("model")
    setter.add_argument("--provider", required=True, help="e.g. openai, anthropic")
    setter.add_argument("--input", required=True, help="USD per million input tokens, e.g. 2.50")
    setter.add_argument("--output", required=True, help="USD per million output tokens")
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
        unit_prices = (
            f"input ${format_usd(price.input_per_million_nanos)} / output "
            f"${format_usd(price.output_per_million_nanos)} per million tokens"
        )
        return (
            f"stored {price.model} ({price.provider}): {unit_prices} "
            f"from {price.effective_from.isoformat()}"
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


async def _list(model: str | None) -> str:
    catalog = await load_catalog()
    rows = [
        f"{p.model:<24} {p.provider:<12} {format_usd(p.input_per_million_nanos):>10} "
        f"{format_usd(p.output_per_million_nanos):>10}  {p.effective_from.date().isoformat()}"
        for p in catalog.entries()
        if model is None or p.model.casefold() == model.casefold()
    ]
    if not rows:
        raise CommandError(f"no price for model {model!r}")
    header = f"{'model':<24} {'provider':<12} {'input/M':>10} {'output/M':>10}  effective from"
    return "\n".join([header, *rows])


def _price_from_args(args: argparse.Namespace) -> ModelPrice:
    try:
        return ModelPrice(
            model=args.model,
            provider=args.provider,
            input_per_million_nanos=_usd(args.input, "--input"),
            output_per_million_nanos=_usd(args.output, "--output"),
            effective_from=_instant(args.effective_from),
        )
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None


def _usd(text: str, option: str) -> int:
    try:
        nanos = usd_to_nanos(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}") from None
    if nanos < 0:
        raise CommandError(f"{option}: a price must not be negative")
    return nanos


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
