import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pricing.catalog import (
    ModelPrice,
    PriceCatalog,
    dump_catalog,
    load_default_catalog,
    parse_catalog,
)
from pricing.money import usd_to_nanos


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


OLD_GPT_4O = ModelPrice("gpt-4o", "openai", usd_to_nanos("5"), usd_to_nanos("15"), utc(2024, 5, 13))
NEW_GPT_4O = ModelPrice(
    "gpt-4o", "openai", usd_to_nanos("2.50"), usd_to_nanos("10"), utc(2024, 10, 2)
)
GPT_4 = ModelPrice("gpt-4", "openai", usd_to_nanos("30"), usd_to_nanos("60"), utc(2023, 3, 14))


def catalog() -> PriceCatalog:
    return PriceCatalog([NEW_GPT_4O, GPT_4, OLD_GPT_4O])


def entry(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "model": "gpt-4o",
        "provider": "openai",
        "input_per_million_usd": "2.50",
        "output_per_million_usd": "10.00",
        "effective_from": "2024-10-02",
    }
    base.update(overrides)
    return base


def document(*entries: dict[str, object]) -> str:
    return json.dumps({"prices": list(entries)})


def test_price_for_picks_the_version_effective_at_the_timestamp() -> None:
    prices = catalog()
    assert prices.price_for("gpt-4o", utc(2024, 5, 13)) == OLD_GPT_4O
    assert prices.price_for("gpt-4o", utc(2024, 10, 1, 23)) == OLD_GPT_4O
    assert prices.price_for("gpt-4o", utc(2024, 10, 2)) == NEW_GPT_4O
    assert prices.price_for("gpt-4o", utc(2030, 1, 1)) == NEW_GPT_4O


def test_price_for_before_the_first_version_is_none() -> None:
    assert catalog().price_for("gpt-4o", utc(2024, 5, 12, 23)) is None


def test_price_for_an_unknown_model_is_none() -> None:
    assert catalog().price_for("gpt-5", utc(2030, 1, 1)) is None


def test_price_for_matches_model_names_case_insensitively_but_otherwise_exactly() -> None:
    prices = catalog()
    assert prices.price_for("GPT-4O", utc(2025, 1, 1)) == NEW_GPT_4O
    assert prices.price_for("gpt-4o ", utc(2025, 1, 1)) is None
    assert prices.price_for("gpt-4o-2024-08-06", utc(2025, 1, 1)) is None


def test_price_for_compares_instants_across_time_zones() -> None:
    plus_two = timezone(timedelta(hours=2))
    just_after_start = datetime(2024, 10, 2, 1, 30, tzinfo=plus_two)  # 2024-10-01 23:30 UTC
    assert catalog().price_for("gpt-4o", just_after_start) == OLD_GPT_4O


def test_price_for_rejects_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        catalog().price_for("gpt-4o", datetime(2025, 1, 1))


def test_models_and_entries_are_sorted() -> None:
    prices = catalog()
    assert prices.models() == ["gpt-4", "gpt-4o"]
    assert prices.entries() == [GPT_4, OLD_GPT_4O, NEW_GPT_4O]


def test_with_price_returns_a_new_catalog_replacing_the_same_version() -> None:
    prices = catalog()
    cheaper = ModelPrice("GPT-4o", "openai", 1, 2, utc(2024, 10, 2))
    updated = prices.with_price(cheaper)
    assert updated.price_for("gpt-4o", utc(2025, 1, 1)) == cheaper
    assert updated.entries() == [GPT_4, OLD_GPT_4O, cheaper]
    assert prices.price_for("gpt-4o", utc(2025, 1, 1)) == NEW_GPT_4O


def test_with_price_adds_a_new_version() -> None:
    later = ModelPrice("gpt-4", "openai", 1, 2, utc(2026, 1, 1))
    updated = catalog().with_price(later)
    assert updated.price_for("gpt-4", utc(2025, 12, 31)) == GPT_4
    assert updated.price_for("gpt-4", utc(2026, 1, 1)) == later


def test_catalog_rejects_two_prices_for_the_same_model_and_start() -> None:
    with pytest.raises(ValueError, match="duplicate price"):
        PriceCatalog([NEW_GPT_4O, NEW_GPT_4O])


def test_model_price_requires_an_aware_start_and_stores_it_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ModelPrice("m", "p", 1, 1, datetime(2024, 1, 1))
    start = datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert ModelPrice("m", "p", 1, 1, start).effective_from.tzinfo is UTC


def test_model_price_rejects_float_prices() -> None:
    with pytest.raises(TypeError):
        ModelPrice("m", "p", 1.5, 1, utc(2024, 1, 1))  # type: ignore[arg-type]


def test_parse_catalog_reads_decimal_strings_and_iso_dates() -> None:
    prices = parse_catalog(
        document(
            entry(),
            entry(effective_from="2024-05-13T00:00:00+00:00", input_per_million_usd="5"),
            entry(
                model="gemini-1.5-flash",
                input_per_million_usd="0.075",
                effective_from="2024-08-12T09:00:00Z",
            ),
        )
    )
    assert prices.entries() == [
        ModelPrice("gemini-1.5-flash", "openai", 75_000_000, 10_000_000_000, utc(2024, 8, 12, 9)),
        ModelPrice("gpt-4o", "openai", 5_000_000_000, 10_000_000_000, utc(2024, 5, 13)),
        ModelPrice("gpt-4o", "openai", 2_500_000_000, 10_000_000_000, utc(2024, 10, 2)),
    ]


def test_parse_catalog_converts_offsets_to_utc() -> None:
    prices = parse_catalog(document(entry(effective_from="2024-10-02T02:00:00+02:00")))
    assert prices.entries()[0].effective_from == utc(2024, 10, 2)


def test_parse_catalog_rejects_float_numbers_naming_index_and_field() -> None:
    float_entry = json.dumps(entry(model="gpt-4")).replace('"2.50"', "2.5")
    text = '{"prices": [' + json.dumps(entry()) + ", " + float_entry + "]}"
    with pytest.raises(ValueError, match=r"prices\[1\] field 'input_per_million_usd'.*string"):
        parse_catalog(text)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (entry(output_per_million_usd="abc"), "output_per_million_usd"),
        (entry(output_per_million_usd="0.0000000001"), "output_per_million_usd"),
        (entry(input_per_million_usd="-1"), "input_per_million_usd"),
        (entry(input_per_million_usd=None), "input_per_million_usd"),
        (entry(input_per_million_usd=True), "input_per_million_usd"),
        (entry(effective_from="yesterday"), "effective_from"),
        (entry(effective_from="2024-10-02T00:00:00"), "effective_from"),
        (entry(effective_from=20241002), "effective_from"),
        (entry(model=""), "model"),
        (entry(provider=7), "provider"),
        (entry(colour="blue"), "colour"),
        ({k: v for k, v in entry().items() if k != "provider"}, "provider"),
        (entry(effective_from="2024-10-02T00:00:00Z"), "effective_from"),  # duplicate
    ],
)
def test_parse_errors_name_the_entry_index_and_field(bad: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"prices\[1\] field '{field}'"):
        parse_catalog(document(entry(), bad))


def test_parse_catalog_rejects_nan_and_infinity_literals() -> None:
    text = document(entry()).replace('"2.50"', "NaN")
    with pytest.raises(ValueError, match=r"prices\[0\] field 'input_per_million_usd'"):
        parse_catalog(text)


@pytest.mark.parametrize("text", ["", "[]", '{"prices": {}}', '{"price": []}', "{"])
def test_parse_catalog_rejects_malformed_documents(text: str) -> None:
    with pytest.raises(ValueError):
        parse_catalog(text)


def test_parse_catalog_rejects_non_object_entries() -> None:
    with pytest.raises(ValueError, match=r"prices\[0\]"):
        parse_catalog('{"prices": ["gpt-4o"]}')


def test_dump_then_parse_round_trips() -> None:
    prices = catalog().with_price(
        ModelPrice("odd", "p", 525, 1, datetime(2024, 1, 1, 12, 30, 15, 7, tzinfo=UTC))
    )
    text = dump_catalog(prices)
    assert parse_catalog(text).entries() == prices.entries()
    assert dump_catalog(parse_catalog(text)) == text


def test_dump_writes_prices_as_decimal_strings_and_midnights_as_dates() -> None:
    dumped = json.loads(dump_catalog(PriceCatalog([NEW_GPT_4O])))
    assert dumped == {
        "prices": [
            {
                "model": "gpt-4o",
                "provider": "openai",
                "input_per_million_usd": "2.50",
                "output_per_million_usd": "10.00",
                "effective_from": "2024-10-02",
            }
        ]
    }


def test_shipped_catalog_loads_with_at_least_14_models() -> None:
    prices = load_default_catalog()
    models = prices.models()
    assert len(models) >= 14
    for model in (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4-turbo",
        "gpt-4",
        "gpt-3.5-turbo",
        "o1",
        "o3-mini",
        "claude-3-5-sonnet",
        "claude-3-5-haiku",
        "claude-3-opus",
        "claude-3-haiku",
        "gemini-1.5-pro",
        "gemini-1.5-flash",
        "mistral-large",
        "llama-3.1-70b",
    ):
        assert model in models


def test_shipped_catalog_has_list_prices_with_output_above_input() -> None:
    prices = load_default_catalog()
    now = utc(2030, 1, 1)
    gpt_4 = prices.price_for("gpt-4", now)
    assert gpt_4 is not None
    assert (gpt_4.input_per_million_nanos, gpt_4.output_per_million_nanos) == (
        usd_to_nanos("30"),
        usd_to_nanos("60"),
    )
    token_priced = [e for e in prices.entries() if e.input_per_million_nanos > 0]
    assert len(token_priced) >= len(prices.entries()) - 1  # dall-e-3 is priced per image
    for entry_ in token_priced:
        assert entry_.output_per_million_nanos > entry_.input_per_million_nanos


def test_shipped_catalog_versions_gpt_4o() -> None:
    prices = load_default_catalog()
    versions = [p for p in prices.entries() if p.model == "gpt-4o"]
    assert len(versions) == 2
    current = prices.price_for("gpt-4o", utc(2030, 1, 1))
    assert current is not None
    assert current.input_per_million_nanos == usd_to_nanos("2.50")
    assert current.output_per_million_nanos == usd_to_nanos("10.00")
    earlier = prices.price_for("gpt-4o", versions[0].effective_from)
    assert earlier is not None
    assert earlier.input_per_million_nanos > current.input_per_million_nanos


def test_shipped_catalog_round_trips_through_dump() -> None:
    prices = load_default_catalog()
    assert parse_catalog(dump_catalog(prices)).entries() == prices.entries()
