"""Per-request cost bounds at ingest: a record above $10,000 is rejected with a reason, the
rest of its batch is stored with exact sums; a running total that would still leave 64 bits
answers a clear non-retryable error instead of INTERNAL."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from ingestion.catalog_store import save_prices
from models.global_ids import encode_global_id
from models.organization import Organization
from models.request_log import RequestLog
from models.spend import SpendCounter
from pricing.catalog import ModelPrice
from pricing.money import usd_to_nanos
from resolvers.periods import billing_period
from spend.deductions import MIN_BALANCE_NANOS
from spend.out_of_range import OUT_OF_RANGE_MESSAGE
from tests.factories import gql, make_ingest_token, make_key, make_org
from tests.ingest_support import (
    assert_rollups_match_raw_scan,
    gateway_record,
    post_bulk,
    spend_totals,
    usage_entries_total,
)

MAX_USD = "10000"
MAX_NANOS = usd_to_nanos(MAX_USD)
PROVIDER_COST_REASON = "must be at most 10000.00 USD per request, got {}"
MUTATION = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) { accepted duplicates rejected { position field reason } }
}
"""


async def _balance(org: Organization) -> int:
    await org.refresh_from_db()
    return org.wallet_balance_nanos


async def test_the_issue_batch_of_10000_records_at_one_million_dollars_is_rejected_per_record(
    client: httpx.AsyncClient,
) -> None:
    # Before the bound this batch summed past 2**63 nanos: HTTP 500 on every resend.
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [gateway_record(key, providerCost="1000000") for _ in range(10_000)]

    response = await post_bulk(client, token, records)

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"], len(body["rejected"])) == (0, 0, 10_000)
    assert body["rejected"][9_999] == {
        "position": 9_999,
        "line": 10_000,
        "field": "providerCost",
        "reason": PROVIDER_COST_REASON.format("1000000"),
    }
    assert {(r["field"], r["reason"]) for r in body["rejected"]} == {
        ("providerCost", PROVIDER_COST_REASON.format("1000000"))
    }
    assert await RequestLog.filter(organization_id=org.id).count() == 0
    assert await _balance(org) == 0


async def test_good_records_of_an_overflowing_batch_are_stored_with_exact_sums(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    # Every other record at the bound (accepted), the rest at the issue's $1,000,000.
    records = [
        gateway_record(key, providerCost=MAX_USD if i % 2 == 0 else "1000000")
        for i in range(10_000)
    ]

    response = await post_bulk(client, token, records)

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (5_000, 0)
    assert [r["position"] for r in body["rejected"]] == list(range(1, 10_000, 2))
    assert await RequestLog.filter(organization_id=org.id).count() == 5_000
    assert await _balance(org) == -5_000 * MAX_NANOS
    assert await usage_entries_total(org.id) == -5_000 * MAX_NANOS
    assert await spend_totals(org.id) == (5_000 * MAX_NANOS, 5_000)
    await assert_rollups_match_raw_scan(org.id)


async def test_provider_cost_exactly_at_the_bound_is_accepted_one_nano_above_rejected(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [
        gateway_record(key, providerCost="10000.000000000"),
        gateway_record(key, providerCost="10000.000000001"),
    ]

    response = await post_bulk(client, token, records)

    assert response.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [
            {
                "position": 1,
                "line": 2,
                "field": "providerCost",
                "reason": PROVIDER_COST_REASON.format("10000.000000001"),
            }
        ],
    }
    assert await _balance(org) == -MAX_NANOS


async def test_the_bound_applies_to_the_customer_cost_after_markup_and_fee(
    client: httpx.AsyncClient,
) -> None:
    # 25% markup and a $0.01 fee on 2xx: $7,999.992 -> $9,999.99 + $0.01 = exactly $10,000.
    org = await make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"))
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [
        gateway_record(key, providerCost="7999.992"),
        gateway_record(key, providerCost="7999.992000001"),
        # No fee on a failed request: $8,000 x 1.25 is exactly the bound.
        gateway_record(key, providerCost="8000", statusCode=500),
        gateway_record(key, providerCost="8000"),
    ]

    response = await post_bulk(client, token, records)

    limit = "one request may cost at most 10000.00 USD"
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [
            {
                "position": 1,
                "line": 2,
                "field": "providerCost",
                "reason": f"costs 10000.000000001 USD with markup and fee; {limit}",
            },
            {
                "position": 3,
                "line": 4,
                "field": "providerCost",
                "reason": f"costs 10000.01 USD with markup and fee; {limit}",
            },
        ],
    }
    assert await _balance(org) == -2 * MAX_NANOS


async def test_a_catalog_priced_record_above_the_bound_names_the_heavier_token_count(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    # $1,000 per million input tokens, $2,000 per million output tokens.
    await save_prices(
        [ModelPrice("dear-model", "p", usd_to_nanos(1000), usd_to_nanos(2000), since)]
    )
    records = [
        gateway_record(key, model="dear-model", providerModel=None, inputTokens=n, outputTokens=m)
        for n, m in ((10_000_000, 0), (10_000_001, 0), (0, 5_000_000), (1, 5_000_000))
    ]

    response = await post_bulk(client, token, records)

    limit = "one request may cost at most 10000.00 USD"
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [
            {
                "position": 1,
                "line": 2,
                "field": "inputTokens",
                "reason": f"costs 10000.001 USD with markup and fee at the catalog price of "
                f"dear-model; {limit}",
            },
            {
                "position": 3,
                "line": 4,
                "field": "outputTokens",
                "reason": f"costs 10000.001 USD with markup and fee at the catalog price of "
                f"dear-model; {limit}",
            },
        ],
    }
    assert await _balance(org) == -2 * MAX_NANOS


async def test_token_counts_above_32_bits_are_rejected_at_the_bound(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [
        gateway_record(key, providerCost="0", inputTokens=2**31 - 1, outputTokens=2**31 - 1),
        gateway_record(key, providerCost="0", inputTokens=2**31),
        gateway_record(key, providerCost="0", outputTokens=2**31),
    ]

    response = await post_bulk(client, token, records)

    assert response.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [
            {
                "position": 1,
                "line": 2,
                "field": "inputTokens",
                "reason": f"must be at most {2**31 - 1}, got {2**31}",
            },
            {
                "position": 2,
                "line": 3,
                "field": "outputTokens",
                "reason": f"must be at most {2**31 - 1}, got {2**31}",
            },
        ],
    }


async def test_the_mutation_rejects_a_record_above_the_bound_and_stores_the_others(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    key_id = encode_global_id("ApiKey", key.id)
    records = [
        {**gateway_record(key, providerCost=cost), "apiKeyId": key_id}
        for cost in ("1000000", MAX_USD, "0.5")
    ]
    for record in records:
        del record["apiKeyPrefix"]

    result = await gql(client, token, MUTATION, records=records)

    assert result.errors is None
    assert result.data == {
        "ingestRequestLogs": {
            "accepted": 2,
            "duplicates": 0,
            "rejected": [
                {
                    "position": 0,
                    "field": "providerCost",
                    "reason": PROVIDER_COST_REASON.format("1000000"),
                }
            ],
        }
    }
    assert await _balance(org) == -(MAX_NANOS + usd_to_nanos("0.5"))


async def test_a_wallet_at_the_64_bit_floor_answers_422_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=MIN_BALANCE_NANOS + usd_to_nanos(5))
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(key, providerCost="10")

    for _ in range(2):  # a resend fails alike: the claim was rolled back with the rest
        response = await post_bulk(client, token, [record])

        assert response.status_code == 422
        assert response.json() == {
            "error": {"code": "OUT_OF_RANGE", "message": OUT_OF_RANGE_MESSAGE}
        }
    assert await RequestLog.filter(organization_id=org.id).count() == 0
    assert await _balance(org) == MIN_BALANCE_NANOS + usd_to_nanos(5)


async def test_the_mutation_answers_bad_user_input_when_the_wallet_is_at_the_floor(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=MIN_BALANCE_NANOS)
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(key, providerCost="0.01")

    result = await gql(client, token, MUTATION, records=[record])

    assert result.data is None
    assert result.errors is not None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        (OUT_OF_RANGE_MESSAGE, "BAD_USER_INPUT")
    ]
    assert await RequestLog.filter(organization_id=org.id).count() == 0


@pytest.mark.postgres_only
async def test_a_spend_counter_overflowing_in_postgresql_answers_422_not_500(
    client: httpx.AsyncClient,
) -> None:
    # PostgreSQL itself refuses the sum (bigint out of range); SQLite's `+` would turn it
    # into a float instead, which no realistic month's spend reaches on the embedded default.
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(key, providerCost="10")
    period = billing_period(datetime.fromisoformat(record["timestamp"]), ZoneInfo("UTC"))
    await SpendCounter.create(
        organization_id=org.id,
        api_key_id=0,
        period_start=period.start,
        spend_nanos=2**63 - usd_to_nanos(5),
    )

    response = await post_bulk(client, token, [record])

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "OUT_OF_RANGE"
    assert await RequestLog.filter(organization_id=org.id).count() == 0
    assert await _balance(org) == 0
