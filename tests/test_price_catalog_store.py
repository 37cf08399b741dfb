"""The catalog in effect: shipped prices, extended and overridden by stored versions."""

from __future__ import annotations

from datetime import UTC, datetime

from ingestion.catalog_store import load_catalog, save_prices, stored_prices
from models.price import ModelPrice as StoredPrice
from pricing.catalog import ModelPrice, load_default_catalog
from pricing.money import usd_to_nanos
from settings import Settings

JAN = datetime(2025, 1, 1, tzinfo=UTC)


def _price(model: str, input_usd: str, effective_from: datetime = JAN) -> ModelPrice:
    return ModelPrice(
        model=model,
        provider="acme",
        input_per_million_nanos=usd_to_nanos(input_usd),
        output_per_million_nanos=usd_to_nanos("1"),
        effective_from=effective_from,
    )


async def test_without_stored_rows_the_shipped_catalog_is_in_effect(db: Settings) -> None:
    catalog = await load_catalog()

    assert catalog.entries() == load_default_catalog().entries()


async def test_a_stored_model_extends_the_catalog(db: Settings) -> None:
    await save_prices([_price("house-model", "3")])

    catalog = await load_catalog()

    price = catalog.price_for("house-model", datetime(2025, 6, 1, tzinfo=UTC))
    assert price is not None
    assert price.input_per_million_nanos == usd_to_nanos("3")
    assert catalog.price_for("house-model", datetime(2024, 12, 31, tzinfo=UTC)) is None


async def test_a_new_version_of_a_shipped_model_takes_over_from_its_date(db: Settings) -> None:
    await save_prices([_price("gpt-4o", "2", datetime(2025, 6, 1, tzinfo=UTC))])

    catalog = await load_catalog()

    before = catalog.price_for("gpt-4o", datetime(2025, 5, 31, tzinfo=UTC))
    after = catalog.price_for("gpt-4o", datetime(2025, 6, 1, tzinfo=UTC))
    assert before is not None and before.input_per_million_nanos == usd_to_nanos("2.50")
    assert after is not None and after.input_per_million_nanos == usd_to_nanos("2")


async def test_same_model_and_date_replaces_case_insensitively(db: Settings) -> None:
    await save_prices([_price("House-Model", "3")])

    await save_prices([_price("house-model", "4")])

    assert [p.input_per_million_nanos for p in await stored_prices()] == [usd_to_nanos("4")]
    assert await StoredPrice.all().count() == 1
