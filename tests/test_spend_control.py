"""Spend control at ingest: key limit thresholds, automatic blocking, budget thresholds.

Organizations here have no markup or fee, so a request at a $0.10 provider cost costs the
customer exactly $0.10.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from tortoise.transactions import in_transaction

from ingestion.writer import write_records
from models.alert import AlertEvent, AlertKind
from models.api_key import ApiKey, KeyStatus
from models.global_ids import encode_global_id
from models.organization import Organization
from models.priced_record import PricedRecord
from models.spend import SpendCounter
from resolvers.periods import billing_period, previous_billing_period
from settings import Settings
from spend.control import after_write
from tests.factories import gql, make_ingest_token, make_key, make_org, make_record

USD = 1_000_000_000
TEN_CENTS = USD // 10
KEY_ACCESS = """
query Access($key: ID!) {
  keyAccess(apiKeyId: $key, model: "gpt-4") { allowed statusCode denial reason }
}
"""


async def ingest(*records: PricedRecord) -> None:
    await write_records(list(records), after_write=after_write)


def current_period_start(org: Organization) -> datetime:
    return billing_period(datetime.now(UTC), ZoneInfo(org.timezone), org.billing_anchor_day).start


async def fired(org: Organization, kind: AlertKind) -> list[tuple[str, str, int | None]]:
    """(period key, threshold, value nanos) of each fired event, ordered."""
    events = await AlertEvent.filter(organization_id=org.id, kind=kind)
    return sorted((e.period_key, e.threshold, e.value_nanos) for e in events)


async def test_twenty_concurrent_requests_on_a_one_dollar_limit_record_all_alert_once_and_block(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    now = datetime.now(UTC)
    barrier = asyncio.Barrier(20)

    async def one_request() -> None:
        record = make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS)
        await barrier.wait()  # all twenty start writing together
        await ingest(record)

    await asyncio.gather(*(one_request() for _ in range(20)))

    # The gateway already served all twenty: every one is recorded and paid for.
    counter = await SpendCounter.get(organization_id=org.id, api_key_id=key.id)
    assert (counter.spend_nanos, counter.requests) == (2 * USD, 20)
    refreshed = await Organization.get(id=org.id)
    assert refreshed.wallet_balance_nanos == 98 * USD
    # Each threshold fired once, by the very request that reached it: $0.80 is the first
    # spend at or over 75%, $0.90 over 90%, $1.00 is 100%. Concurrent batches saw each
    # other's spend exactly.
    period = current_period_start(org).isoformat()
    assert await fired(org, AlertKind.KEY_LIMIT) == [
        (period, "100", USD),
        (period, "75", 8 * TEN_CENTS),
        (period, "90", 9 * TEN_CENTS),
    ]
    blocked = await ApiKey.get(id=key.id)
    assert blocked.status is KeyStatus.BLOCKED
    assert blocked.status_reason == "monthly limit of $1.00 reached"
    assert blocked.limit_blocked_period_start == current_period_start(org)
    access = await gql(
        client, await make_ingest_token(org), KEY_ACCESS, key=encode_global_id("ApiKey", key.id)
    )
    assert access.errors is None
    assert access.data == {
        "keyAccess": {
            "allowed": False,
            "statusCode": 401,
            "denial": "KEY_BLOCKED",
            "reason": f"API key '{key.label}' is blocked: monthly limit of $1.00 reached",
        }
    }


async def test_key_limit_alert_fires_at_exactly_75_percent_and_not_below(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=4 * TEN_CENTS)
    now = datetime.now(UTC)

    await ingest(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS))
    await ingest(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS))
    assert await fired(org, AlertKind.KEY_LIMIT) == []

    await ingest(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS))
    period = current_period_start(org).isoformat()
    assert await fired(org, AlertKind.KEY_LIMIT) == [(period, "75", 3 * TEN_CENTS)]
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.ACTIVE


async def test_one_batch_crossing_every_threshold_fires_each_once_and_blocks(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    now = datetime.now(UTC)

    await ingest(
        *(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS) for _ in range(12))
    )
    await ingest(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS))

    period = current_period_start(org).isoformat()
    assert await fired(org, AlertKind.KEY_LIMIT) == [
        (period, "100", 12 * TEN_CENTS),
        (period, "75", 12 * TEN_CENTS),
        (period, "90", 12 * TEN_CENTS),
    ]
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.BLOCKED


async def test_key_limit_alerts_fire_again_in_the_next_period(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    tz = ZoneInfo(org.timezone)
    last = previous_billing_period(billing_period(datetime.now(UTC), tz), tz)
    before_last = previous_billing_period(last, tz)

    for period in (before_last, last):
        at = period.start + timedelta(days=3)
        await ingest(
            *(make_record(org, key, None, at, provider_cost_nanos=TEN_CENTS) for _ in range(8))
        )
        await ingest(make_record(org, key, None, at, provider_cost_nanos=TEN_CENTS))

    events = await fired(org, AlertKind.KEY_LIMIT)
    assert events == [
        (before_last.start.isoformat(), "75", 8 * TEN_CENTS),
        (before_last.start.isoformat(), "90", 9 * TEN_CENTS),
        (last.start.isoformat(), "75", 8 * TEN_CENTS),
        (last.start.isoformat(), "90", 9 * TEN_CENTS),
    ]


async def test_late_records_reaching_a_past_limit_alert_but_do_not_block_the_key(
    db: Settings,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    tz = ZoneInfo(org.timezone)
    last = previous_billing_period(billing_period(datetime.now(UTC), tz), tz)

    await ingest(
        *(make_record(org, key, None, last.start, provider_cost_nanos=TEN_CENTS) for _ in range(10))
    )

    assert [t for _, t, _ in await fired(org, AlertKind.KEY_LIMIT)] == ["100", "75", "90"]
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.ACTIVE


async def test_spend_control_leaves_manual_blocks_and_revocations_as_they_are(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    blocked = await make_key(
        org, monthly_limit_nanos=USD, status=KeyStatus.BLOCKED, status_reason="lost laptop"
    )
    revoked = await make_key(org, monthly_limit_nanos=USD, status=KeyStatus.REVOKED)
    now = datetime.now(UTC)

    for key in (blocked, revoked):
        await ingest(
            *(make_record(org, key, None, now, provider_cost_nanos=TEN_CENTS) for _ in range(10))
        )

    manual = await ApiKey.get(id=blocked.id)
    assert (manual.status, manual.status_reason, manual.limit_blocked_period_start) == (
        KeyStatus.BLOCKED,
        "lost laptop",
        None,
    )
    assert (await ApiKey.get(id=revoked.id)).status is KeyStatus.REVOKED


async def test_a_limit_block_from_an_earlier_period_is_renewed_for_this_one(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    tz = ZoneInfo(org.timezone)
    current = billing_period(datetime.now(UTC), tz)
    last = previous_billing_period(current, tz)
    key = await make_key(
        org,
        monthly_limit_nanos=USD,
        status=KeyStatus.BLOCKED,
        status_reason="monthly limit of $1.00 reached",
        limit_blocked_period_start=last.start,
    )

    await ingest(
        *(
            make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=TEN_CENTS)
            for _ in range(10)
        )
    )

    renewed = await ApiKey.get(id=key.id)
    assert renewed.status is KeyStatus.BLOCKED
    assert renewed.limit_blocked_period_start == current.start


async def test_keys_without_a_limit_never_alert_or_block(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org)

    await ingest(
        *(make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD) for _ in range(5))
    )

    assert await fired(org, AlertKind.KEY_LIMIT) == []
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.ACTIVE


async def test_budget_thresholds_fire_once_per_period_and_again_in_the_next(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD, monthly_budget_nanos=2 * USD)
    first_key, second_key = await make_key(org), await make_key(org)
    tz = ZoneInfo(org.timezone)
    last = previous_billing_period(billing_period(datetime.now(UTC), tz), tz)
    before_last = previous_billing_period(last, tz)

    for period in (before_last, last):
        at = period.start + timedelta(hours=1)
        # Spend from two keys adds up against the one budget: $1.50 is 75%, then $2.00.
        for key in (first_key, second_key):
            await ingest(
                *(make_record(org, key, None, at, provider_cost_nanos=TEN_CENTS) for _ in range(5))
            )
        await ingest(make_record(org, first_key, None, at, provider_cost_nanos=5 * TEN_CENTS))
        await ingest(make_record(org, second_key, None, at, provider_cost_nanos=5 * TEN_CENTS))

    assert await fired(org, AlertKind.BUDGET) == [
        (before_last.start.isoformat(), "100", 2 * USD),
        (before_last.start.isoformat(), "75", 15 * TEN_CENTS),
        (before_last.start.isoformat(), "90", 2 * USD),
        (last.start.isoformat(), "100", 2 * USD),
        (last.start.isoformat(), "75", 15 * TEN_CENTS),
        (last.start.isoformat(), "90", 2 * USD),
    ]
    # A budget alerts; it never blocks keys.
    assert {k.status for k in await ApiKey.filter(organization_id=org.id)} == {KeyStatus.ACTIVE}


async def test_budget_alert_message_states_spend_and_budget(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD, monthly_budget_nanos=USD)
    key = await make_key(org)

    await ingest(make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=8 * TEN_CENTS))

    event = await AlertEvent.get(organization_id=org.id, kind=AlertKind.BUDGET)
    assert (
        event.message == "The organization reached 75% of its monthly budget: $0.80 of $1.00 spent"
    )
    assert event.api_key_id_subject == 0


async def test_after_write_with_no_records_does_nothing(db: Settings) -> None:
    org = await make_org()
    await write_records([], after_write=after_write)
    async with in_transaction() as conn:
        await after_write(conn, [])
    assert await AlertEvent.filter(organization_id=org.id).count() == 0


async def test_resent_records_never_count_twice_toward_a_limit(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    records = [
        make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=TEN_CENTS)
        for _ in range(7)
    ]

    await ingest(*records)
    await ingest(*records)

    counter = await SpendCounter.get(organization_id=org.id, api_key_id=key.id)
    assert counter.spend_nanos == 7 * TEN_CENTS
    assert await fired(org, AlertKind.KEY_LIMIT) == []
