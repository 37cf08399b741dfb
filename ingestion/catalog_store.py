"""The price catalog in effect: the shipped `pricing/prices.json` plus the `model_price` table.

A stored row adds a version (a model, or a new effective date for a known one) or replaces
the shipped version with the same model and effective-from instant. Read fresh for each
ingest batch (one small query), so a price set from the CLI applies to the next batch on
every replica.
"""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.transactions import in_transaction

from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.price import ModelPrice as StoredPrice
from pricing.catalog import (
    ModelPrice,
    PriceCatalog,
    class_price_fields,
    load_default_catalog,
    with_class_price_fields,
)


async def stored_prices() -> list[ModelPrice]:
    """Every version stored in the database, sorted by (model, effective_from)."""
    rows = await fetch_all(
        "SELECT model, provider, input_per_million_nanos, output_per_million_nanos, "
        "effective_from, class_prices FROM model_price ORDER BY model, effective_from",
        Params(current_dialect()),
    )
    return [_stored_price(row) for row in rows]


def _stored_price(row: dict[str, Any]) -> ModelPrice:
    price = ModelPrice(
        model=str(row["model"]),
        provider=str(row["provider"]),
        input_per_million_nanos=int(row["input_per_million_nanos"]),
        output_per_million_nanos=int(row["output_per_million_nanos"]),
        effective_from=parse_db_datetime(row["effective_from"]),
    )
    extra = row["class_prices"]
    if isinstance(extra, str | bytes):  # SQLite and asyncpg hand JSON back as text
        extra = orjson.loads(extra)
    return with_class_price_fields(price, extra) if extra else price


async def load_catalog() -> PriceCatalog:
    """The catalog in effect: shipped prices, overridden and extended by stored ones."""
    catalog = load_default_catalog()
    for price in await stored_prices():
        catalog = catalog.with_price(price)
    return catalog


async def save_prices(prices: list[ModelPrice]) -> int:
    """Store the versions (replacing any with the same model, case-insensitively, and
    effective-from instant) in one transaction; returns how many were stored."""
    async with in_transaction():
        for price in prices:
            await StoredPrice.filter(
                model__iexact=price.model, effective_from=price.effective_from
            ).delete()
            await StoredPrice.create(
                model=price.model,
                provider=price.provider,
                input_per_million_nanos=price.input_per_million_nanos,
                output_per_million_nanos=price.output_per_million_nanos,
                effective_from=price.effective_from,
                class_prices=class_price_fields(price) or None,
            )
    return len(prices)
