"""A markup or fee change applies from its stated instant on: ingest and reprice price each
request by the terms in effect at its timestamp, and requests already priced keep their price."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ingestion.catalog_store import save_prices
from ingestion.pipeline import ingest_batch
from ingestion.reprice import reprice
from ingestion.submission import Submitted
from models.api_key import ApiKey
from models.global_ids import decode_global_id_of
from models.organization import Organization
from models.request_log import RequestLog
from pricing.catalog import ModelPrice
from pricing.money import format_usd, usd_to_nanos
from tests.admin_callers import audit_trail, make_callers
from tests.factories import gql, make_key, make_org

CHANGE = """
mutation S($input: UpdateOrganizationSettingsInput!) {
  updateOrganizationSettings(input: $input) { markupPercent fixedFee }
}
"""
HISTORY = """
{ organization { markupPercent fixedFee pricingHistory { effectiveFrom markupPercent fixedFee } } }
"""


def seed_priced_org() -> Any:
    # The seed's pricing: 25% markup, $0.01 fee ($0.10 provider cost -> $0.135).
    return make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"))


def record(key: ApiKey, at: datetime, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
        "apiKeyPrefix": key.prefix,
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1000,
        "outputTokens": 500,
        "latencyMs": 900,
        "statusCode": 200,
        "providerCost": "0.10",
    }
    values.update(fields)
    return values


async def ingest_at(org: Organization, now: datetime, *records: dict[str, Any]) -> None:
    """Ingest as the service would at `now` (a change is always at least minutes ahead)."""
    outcome = await ingest_batch(
        org.id,
        [Submitted(i, None, r) for i, r in enumerate(records)],
        late_arrival_days=35,
        decode_id=decode_global_id_of,
        now=now,
    )
    assert outcome.rejected == [] and outcome.accepted == len(records)


async def customer_costs(org: Organization) -> dict[str, str]:
    logs = await RequestLog.filter(organization_id=org.id)
    return {str(log.request_id): format_usd(log.customer_cost_nanos) for log in logs}


async def test_requests_before_and_after_the_change_are_priced_by_their_own_terms(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers(await seed_priced_org())
    key = await make_key(callers.org)
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)

    changed = await gql(
        client,
        callers.tokens["owner"],
        CHANGE,
        input={
            "markupPercent": "10",
            "fixedFee": "0.02",
            "pricingEffectiveFrom": start.isoformat(),
        },
    )
    before = record(key, start - timedelta(microseconds=1))
    at_start = record(key, start)
    failed = record(key, start + timedelta(seconds=1), statusCode=500, errorMessage="upstream")
    await ingest_at(callers.org, start + timedelta(minutes=1), before, at_start, failed)

    # The change is ahead: what is in effect now is still the original terms.
    assert changed.data == {
        "updateOrganizationSettings": {"markupPercent": "25.00", "fixedFee": "0.01"}
    }
    assert await customer_costs(callers.org) == {
        before["requestId"]: "0.135",  # 0.10 + 25% + 0.01
        at_start["requestId"]: "0.13",  # 0.10 + 10% + 0.02
        failed["requestId"]: "0.11",  # 0.10 + 10%, no fee on a failed request
    }
    history = await gql(client, callers.tokens["member"], HISTORY)
    assert history.data == {
        "organization": {
            "markupPercent": "25.00",
            "fixedFee": "0.01",
            "pricingHistory": [
                {"effectiveFrom": None, "markupPercent": "25.00", "fixedFee": "0.01"},
                {
                    "effectiveFrom": start.isoformat(timespec="microseconds"),
                    "markupPercent": "10.00",
                    "fixedFee": "0.02",
                },
            ],
        }
    }
    assert await audit_trail(callers.org.id) == [
        (
            "organization.pricing",
            callers.org.id,
            {
                "effectiveFrom": {"old": None, "new": start.isoformat(timespec="microseconds")},
                "markupPercent": {"old": "25.00", "new": "10.00"},
                "fixedFee": {"old": "0.01", "new": "0.02"},
            },
        )
    ]


async def test_a_later_change_leaves_requests_already_priced_alone(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers(await seed_priced_org())
    key = await make_key(callers.org)
    first = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    second = first + timedelta(hours=1)
    token = callers.tokens["owner"]
    await gql(
        client,
        token,
        CHANGE,
        input={"markupPercent": "10", "pricingEffectiveFrom": first.isoformat()},
    )
    priced = record(key, first + timedelta(minutes=1))
    await ingest_at(callers.org, first + timedelta(minutes=2), priced)

    await gql(
        client,
        token,
        CHANGE,
        input={"fixedFee": "0.05", "pricingEffectiveFrom": second.isoformat()},
    )
    later = record(key, second)
    await ingest_at(callers.org, second + timedelta(minutes=1), later)

    assert await customer_costs(callers.org) == {
        priced["requestId"]: "0.12",  # 0.10 + 10% + 0.01 (the fee in effect then)
        later["requestId"]: "0.16",  # 0.10 + 10% (kept from the first change) + 0.05
    }


async def test_a_change_left_without_a_start_begins_on_the_first_whole_minute_allowed(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers(await seed_priced_org())
    asked_at = datetime.now(UTC)

    result = await gql(client, callers.tokens["owner"], CHANGE, input={"markupPercent": "30"})

    assert result.errors is None
    history = await gql(client, callers.tokens["owner"], HISTORY)
    assert history.data is not None
    start = datetime.fromisoformat(
        history.data["organization"]["pricingHistory"][1]["effectiveFrom"]
    )
    assert (start.second, start.microsecond) == (0, 0)
    assert asked_at + timedelta(minutes=6) <= start <= asked_at + timedelta(minutes=8)


async def test_reprice_prices_each_request_by_the_terms_of_its_time(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers(
        await make_org(
            markup_bps=2500,
            fixed_fee_nanos=usd_to_nanos("0.01"),
            wallet_balance_nanos=usd_to_nanos("100"),
        )
    )
    key = await make_key(callers.org)
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    await gql(
        client,
        callers.tokens["owner"],
        CHANGE,
        input={"markupPercent": "50", "fixedFee": "0", "pricingEffectiveFrom": start.isoformat()},
    )
    # No catalog price for the model yet: both are stored unpriced.
    mystery = {"model": "mystery-2", "providerCost": None}
    before = {
        k: v
        for k, v in record(key, start - timedelta(seconds=1), **mystery).items()
        if v is not None
    }
    after = {
        k: v
        for k, v in record(key, start + timedelta(seconds=1), **mystery).items()
        if v is not None
    }
    await ingest_at(callers.org, start + timedelta(minutes=1), before, after)
    assert await customer_costs(callers.org) == {
        before["requestId"]: "0.00",
        after["requestId"]: "0.00",
    }

    await save_prices(
        [
            ModelPrice(
                model="mystery-2",
                provider="acme",
                input_per_million_nanos=usd_to_nanos("10"),
                output_per_million_nanos=usd_to_nanos("20"),
                effective_from=datetime(2024, 1, 1, tzinfo=UTC),
            )
        ]
    )
    result = await reprice(callers.org.id)

    # 1000 x $10/M + 500 x $20/M = $0.02 provider cost.
    assert (result.repriced, result.still_unpriced) == (2, 0)
    assert await customer_costs(callers.org) == {
        before["requestId"]: "0.035",  # 0.02 + 25% + 0.01
        after["requestId"]: "0.03",  # 0.02 + 50% + 0
    }
    assert result.charged_nanos == usd_to_nanos("0.065")
