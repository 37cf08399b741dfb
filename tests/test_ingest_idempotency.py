"""Exactly once per organization: resends and concurrent overlapping batches never count
anything twice; the same request id from two organizations is stored for each."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ingestion.writer import write_records
from models.member import Role
from models.organization import Organization
from models.request_log import RequestLog
from pricing.money import usd_to_nanos
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_record
from tests.ingest_support import (
    assert_rollups_match_raw_scan,
    gateway_record,
    post_bulk,
    spend_totals,
    stored_records,
    usage_entries_total,
)

DEPOSIT = usd_to_nanos("1000")


async def _gateway_org() -> tuple[Organization, list[dict[str, Any]], str]:
    org = await make_org(
        markup_bps=2500,
        fixed_fee_nanos=usd_to_nanos("0.01"),
        wallet_balance_nanos=DEPOSIT,
    )
    member = await make_member(org, Role.MEMBER)
    personal = await make_key(org, owner=member)
    team = await make_key(org)
    rng = random.Random(4)
    now = datetime.now(UTC)
    records = [
        gateway_record(
            rng.choice([personal, team]),
            timestamp=(now - timedelta(minutes=rng.randrange(10, 60 * 24 * 3))).isoformat(),
            model=rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "no-price-model"]),
            providerModel=None,
            statusCode=rng.choice([200, 200, 200, 429, 500]),
            inputTokens=rng.randrange(0, 5000),
            outputTokens=rng.randrange(0, 2000),
        )
        for _ in range(400)
    ]
    return org, records, await make_ingest_token(org)


async def _assert_counted_once(org: Organization, expected_ids: set[str]) -> None:
    records = await stored_records(org.id)
    assert {str(r.request_id) for r in records} == expected_ids
    cost = sum(r.customer_cost_nanos for r in records)
    assert cost > 0
    refreshed = await Organization.get(id=org.id)
    assert refreshed.wallet_balance_nanos == DEPOSIT - cost
    assert await usage_entries_total(org.id) == -cost
    assert await spend_totals(org.id) == (cost, len(expected_ids))
    await assert_rollups_match_raw_scan(org.id)


async def test_resending_a_batch_three_times_counts_it_once(client: httpx.AsyncClient) -> None:
    org, records, token = await _gateway_org()
    batch = records[:200]

    answers = [(await post_bulk(client, token, batch)).json() for _ in range(3)]

    assert answers[0] == {"accepted": 200, "duplicates": 0, "rejected": []}
    assert answers[1] == answers[2] == {"accepted": 0, "duplicates": 200, "rejected": []}
    await _assert_counted_once(org, {r["requestId"] for r in batch})


async def test_eight_overlapping_concurrent_batches_count_each_record_once(
    client: httpx.AsyncClient,
) -> None:
    org, records, token = await _gateway_org()
    # Batch i covers records [40 i, 40 i + 120): every record is in up to three batches.
    batches = [records[40 * i : 40 * i + 120] for i in range(8)]
    for i, batch in enumerate(batches):
        random.Random(i).shuffle(batch)

    answers = await asyncio.gather(*(post_bulk(client, token, b) for b in batches))

    union = {r["requestId"] for batch in batches for r in batch}
    payloads = [a.json() for a in answers]
    assert all(a.status_code == 200 for a in answers)
    assert sum(p["accepted"] for p in payloads) == len(union)
    assert sum(p["accepted"] + p["duplicates"] for p in payloads) == sum(map(len, batches))
    await _assert_counted_once(org, union)


async def test_a_request_id_repeated_inside_one_batch_is_stored_once(
    client: httpx.AsyncClient,
) -> None:
    org, records, token = await _gateway_org()
    batch = [records[0], records[1], records[0]]

    response = await post_bulk(client, token, batch)

    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert await RequestLog.filter(organization_id=org.id).count() == 2
    await _assert_counted_once(org, {records[0]["requestId"], records[1]["requestId"]})


async def test_a_request_id_is_unique_per_organization_not_across_them(
    client: httpx.AsyncClient,
) -> None:
    first, records, first_token = await _gateway_org()
    second, _, second_token = await _gateway_org()
    second_key = await make_key(second)
    batch = records[:50]
    # The same request ids, sent by the second organization for its own key.
    same_ids = [{**r, "apiKeyPrefix": second_key.prefix} for r in batch]

    sent_first = (await post_bulk(client, first_token, batch)).json()
    sent_second = (await post_bulk(client, second_token, same_ids)).json()
    resent_second = (await post_bulk(client, second_token, same_ids)).json()
    resent_first = (await post_bulk(client, first_token, batch)).json()

    # The first organization's ids do not make the second's records duplicates.
    assert sent_first == sent_second == {"accepted": 50, "duplicates": 0, "rejected": []}
    # Within one organization a resend is still a duplicate.
    assert resent_second == resent_first == {"accepted": 0, "duplicates": 50, "rejected": []}
    ids = {r["requestId"] for r in batch}
    await _assert_counted_once(first, ids)
    await _assert_counted_once(second, ids)


async def test_one_batch_with_an_id_of_two_organizations_stores_both() -> None:
    first = await make_org()
    second = await make_org()
    first_key, second_key = await make_key(first), await make_key(second)
    now = datetime.now(UTC) - timedelta(minutes=5)
    shared = uuid.uuid4()
    records = [
        make_record(first, first_key, None, now, request_id=shared),
        make_record(second, second_key, None, now, request_id=shared),
        make_record(second, second_key, None, now, request_id=shared),
    ]

    result = await write_records(records)
    again = await write_records(records[:2])

    assert [r.organization_id for r in result.inserted] == sorted([first.id, second.id])
    assert [r.organization_id for r in result.duplicates] == [second.id]
    assert again.inserted == []
    assert len(again.duplicates) == 2
    for org in (first, second):
        assert await RequestLog.filter(organization_id=org.id, request_id=shared).count() == 1
