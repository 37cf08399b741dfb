"""Pricing at ingest: catalog or gateway cost, markup and fee per organization, exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from ingestion.catalog_store import save_prices
from models.request_log import RequestLog
from pricing.catalog import ModelPrice
from pricing.money import usd_to_nanos
from tests.factories import make_ingest_token, make_key, make_org
from tests.ingest_support import assert_rollups_match_raw_scan, gateway_record, post_bulk


async def test_seed_example_provider_010_markup_25_fee_001_costs_0135(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"))
    key = await make_key(org)
    token = await make_ingest_token(org)

    await post_bulk(client, token, [gateway_record(key, providerCost="0.10")])

    log = await RequestLog.get(organization_id=org.id)
    assert log.provider_cost_nanos == usd_to_nanos("0.10")
    assert log.markup_nanos == usd_to_nanos("0.025")
    assert log.fixed_fee_nanos == usd_to_nanos("0.01")
    assert log.customer_cost_nanos == usd_to_nanos("0.135")
    assert log.priced is True


async def test_catalog_price_applies_when_the_gateway_sends_no_cost(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(markup_bps=2000)
    key = await make_key(org)
    token = await make_ingest_token(org)
    # gpt-4o since 2024-10-02: $2.50 input, $10.00 output per million tokens.
    record = gateway_record(
        key, model="gpt-4o", providerModel="gpt-4o-2024-08-06", inputTokens=1000, outputTokens=500
    )

    await post_bulk(client, token, [record])

    log = await RequestLog.get(organization_id=org.id)
    assert log.provider_cost_nanos == usd_to_nanos("0.0075")  # 0.0025 + 0.005
    assert log.markup_nanos == usd_to_nanos("0.0015")
    assert log.customer_cost_nanos == usd_to_nanos("0.009")


async def test_provider_model_price_wins_over_the_alias(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    # The gateway fell back from gpt-4 to claude-3-5-sonnet ($3 / $15 per million).
    record = gateway_record(
        key, model="gpt-4", providerModel="claude-3-5-sonnet", inputTokens=1000, outputTokens=0
    )

    await post_bulk(client, token, [record])

    log = await RequestLog.get(organization_id=org.id)
    assert log.provider_cost_nanos == usd_to_nanos("0.003")


async def test_failed_request_pays_for_its_tokens_but_no_fixed_fee(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"))
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(
        key, model="gpt-4", providerModel="gpt-4", statusCode=500, inputTokens=1000, outputTokens=0
    )

    await post_bulk(client, token, [record])

    log = await RequestLog.get(organization_id=org.id)
    assert log.provider_cost_nanos == usd_to_nanos("0.03")  # gpt-4: $30 per million input
    assert log.fixed_fee_nanos == 0
    assert log.customer_cost_nanos == usd_to_nanos("0.0375")


async def test_model_without_price_is_stored_unpriced_at_zero(client: httpx.AsyncClient) -> None:
    org = await make_org(fixed_fee_nanos=usd_to_nanos("0.01"))
    key = await make_key(org)
    token = await make_ingest_token(org)

    response = await post_bulk(
        client, token, [gateway_record(key, model="mystery-1", providerModel="mystery-1-0101")]
    )

    assert response.json()["accepted"] == 1
    log = await RequestLog.get(organization_id=org.id)
    assert log.priced is False
    assert (log.provider_cost_nanos, log.fixed_fee_nanos, log.customer_cost_nanos) == (0, 0, 0)
    await assert_rollups_match_raw_scan(org.id)


async def test_a_stored_catalog_price_applies_to_the_next_batch(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    await save_prices(
        [
            ModelPrice(
                model="house-model",
                provider="acme",
                input_per_million_nanos=usd_to_nanos("2"),
                output_per_million_nanos=usd_to_nanos("4"),
                effective_from=datetime(2024, 1, 1, tzinfo=UTC),
            )
        ]
    )

    await post_bulk(
        client,
        token,
        [gateway_record(key, model="house-model", providerModel=None, outputTokens=1000)],
    )

    log = await RequestLog.get(organization_id=org.id)
    assert log.priced is True
    assert log.provider_cost_nanos == usd_to_nanos("0.006")  # 1000 x $2/M + 1000 x $4/M
