"""Reprice: unpriced logs get priced once the catalog has a price; every total follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from ingestion.catalog_store import save_prices
from ingestion.folding import drain
from ingestion.reprice import reprice
from models.database import Params, current_dialect, fetch_all
from models.organization import Organization
from models.request_log import RequestLog
from pricing.money import usd_to_nanos
from tests.factories import make_ingest_token, make_key, make_org, mystery_price
from tests.ingest_support import (
    assert_rollups_match_raw_scan,
    gateway_record,
    post_bulk,
    spend_totals,
    usage_entries_total,
)

DEPOSIT = usd_to_nanos("100")


async def _day_totals(organization_id: int) -> tuple[int, int, int]:
    """(requests, unpriced, customer cost nano-USD) from the DAY rollup, every pending row
    folded first (ingestion/folding.py)."""
    await drain()
    params = Params(current_dialect())
    rows = await fetch_all(
        "SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(unpriced), 0) AS unpriced, "
        "COALESCE(SUM(customer_cost_nanos), 0) AS cost FROM usage_rollup_day "
        f"WHERE organization_id = {params.add(organization_id)}",
        params,
    )
    row = rows[0]
    return int(row["requests"]), int(row["unpriced"]), int(row["cost"])


async def test_unpriced_model_is_repriced_and_every_total_corrected(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(
        markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"), wallet_balance_nanos=DEPOSIT
    )
    key = await make_key(org)
    token = await make_ingest_token(org)
    priced = gateway_record(key, providerCost="0.10")
    unpriced = gateway_record(
        key,
        model="mystery-1",
        providerModel=None,
        inputTokens=1000,
        outputTokens=500,
        tags=["feature:chat", "customer:7"],
        endUser="user-1",
    )
    await post_bulk(client, token, [priced, unpriced])
    assert await _day_totals(org.id) == (2, 1, usd_to_nanos("0.135"))

    await save_prices([mystery_price(datetime(2024, 1, 1, tzinfo=UTC))])
    result = await reprice(org.id)

    # 1000 x $10/M + 500 x $20/M = $0.02; x 1.25 = $0.025; + $0.01 fee = $0.035
    assert (result.repriced, result.still_unpriced) == (1, 0)
    assert result.charged_nanos == usd_to_nanos("0.035")
    log = await RequestLog.get(request_id=unpriced["requestId"])
    assert log.priced is True
    assert log.customer_cost_nanos == usd_to_nanos("0.035")
    total = usd_to_nanos("0.17")
    assert await _day_totals(org.id) == (2, 0, total)
    await assert_rollups_match_raw_scan(org.id)
    assert (await Organization.get(id=org.id)).wallet_balance_nanos == DEPOSIT - total
    assert await usage_entries_total(org.id) == -total
    assert await spend_totals(org.id) == (total, 2)


async def test_a_second_reprice_changes_nothing(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=DEPOSIT)
    key = await make_key(org)
    token = await make_ingest_token(org)
    await post_bulk(client, token, [gateway_record(key, model="mystery-1", providerModel=None)])
    await save_prices([mystery_price(datetime(2024, 1, 1, tzinfo=UTC))])
    await reprice(org.id)
    balance = (await Organization.get(id=org.id)).wallet_balance_nanos

    again = await reprice(org.id)

    assert (again.repriced, again.still_unpriced, again.charged_nanos) == (0, 0, 0)
    assert (await Organization.get(id=org.id)).wallet_balance_nanos == balance
    await assert_rollups_match_raw_scan(org.id)


async def test_logs_before_the_price_takes_effect_stay_unpriced(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    now = datetime.now(UTC)
    early = gateway_record(
        key, model="mystery-1", providerModel=None, timestamp=(now - timedelta(days=3)).isoformat()
    )
    late = gateway_record(
        key, model="mystery-1", providerModel=None, timestamp=(now - timedelta(hours=1)).isoformat()
    )
    await post_bulk(client, token, [early, late])
    await save_prices([mystery_price(now - timedelta(days=1))])

    result = await reprice(org.id)

    assert (result.repriced, result.still_unpriced) == (1, 1)
    assert (await RequestLog.get(request_id=early["requestId"])).priced is False
    assert (await RequestLog.get(request_id=late["requestId"])).priced is True
    await assert_rollups_match_raw_scan(org.id)


async def test_reprice_for_one_organization_leaves_the_others(client: httpx.AsyncClient) -> None:
    first, second = await make_org(), await make_org()
    for org in (first, second):
        key = await make_key(org)
        token = await make_ingest_token(org)
        await post_bulk(client, token, [gateway_record(key, model="mystery-1", providerModel=None)])
    await save_prices([mystery_price(datetime(2024, 1, 1, tzinfo=UTC))])

    await reprice(first.id)

    assert await RequestLog.filter(organization_id=first.id, priced=False).count() == 0
    assert await RequestLog.filter(organization_id=second.id, priced=False).count() == 1
