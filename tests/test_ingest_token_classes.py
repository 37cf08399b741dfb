"""Token classes end to end: ingest (own fields or a provider's usage object), validation,
the stored class costs, rollups, reprice with class prices, and what each role reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from ingestion.catalog_store import load_catalog, save_prices
from ingestion.reprice import reprice
from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from pricing.catalog import ModelPrice
from pricing.money import usd_to_nanos
from pricing.rates import TokenPrices
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import assert_rollups_match_raw_scan, gateway_record, post_bulk

# claude-sonnet-4-5 in Anthropic's own counting: 2,000 fresh prompt tokens, 100,000 read from
# the cache, 10,000 written to it for 5 minutes, 1,000 out.
ANTHROPIC_USAGE = {
    "input_tokens": 2_000,
    "cache_read_input_tokens": 100_000,
    "cache_creation_input_tokens": 10_000,
    "cache_creation": {"ephemeral_5m_input_tokens": 10_000, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1_000,
}


def _claude(key: Any, **fields: Any) -> dict[str, Any]:
    record = gateway_record(
        key, model="claude-sonnet-4-5", providerModel="claude-sonnet-4-5", **fields
    )
    for name in ("inputTokens", "outputTokens"):
        if fields.get(name) is None and "usage" in fields:
            record.pop(name)
    return record


async def test_an_anthropic_usage_object_is_mapped_and_priced_per_class(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.001"))
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = _claude(key, usage=ANTHROPIC_USAGE, usageFormat="ANTHROPIC")

    verdict = (await post_bulk(client, token, [record])).json()

    assert verdict == {"accepted": 1, "duplicates": 0, "rejected": []}
    log = await RequestLog.get(organization_id=org.id)
    assert (log.input_tokens, log.output_tokens, log.total_tokens) == (112_000, 1_000, 113_000)
    assert (log.cache_read_tokens, log.cache_write_5m_tokens, log.cache_write_1h_tokens) == (
        100_000,
        10_000,
        0,
    )
    # $3 fresh, $0.30 read, $3.75 written, $15 out, per million tokens.
    assert (
        log.input_cost_nanos,
        log.cache_read_cost_nanos,
        log.cache_write_cost_nanos,
        log.output_cost_nanos,
        log.reasoning_cost_nanos,
        log.request_cost_nanos,
    ) == (
        usd_to_nanos("0.006"),
        usd_to_nanos("0.03"),
        usd_to_nanos("0.0375"),
        usd_to_nanos("0.015"),
        0,
        0,
    )
    assert log.provider_cost_nanos == usd_to_nanos("0.0885")
    assert log.markup_nanos == usd_to_nanos("0.022125")
    assert log.customer_cost_nanos == usd_to_nanos("0.111625")
    assert log.cache_savings_nanos == usd_to_nanos("0.2625")  # 110,000 x $3/M - $0.0675
    await assert_rollups_match_raw_scan(org.id)


async def test_own_class_fields_price_the_same_as_the_usage_object(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    own = _claude(
        key, inputTokens=112_000, outputTokens=1_000, cacheReadTokens=100_000,
        cacheWrite5mTokens=10_000,
    )  # fmt: skip
    mapped = _claude(key, usage=ANTHROPIC_USAGE, usageFormat="anthropic", inputTokens=112_000)

    await post_bulk(client, token, [own, mapped])

    costs = {log.provider_cost_nanos for log in await RequestLog.filter(organization_id=org.id)}
    assert costs == {usd_to_nanos("0.0885")}


@pytest.mark.parametrize(
    ("fields", "field", "reason_part"),
    [
        ({"inputTokens": 1_000, "cacheReadTokens": 1_500}, "cacheReadTokens", "exceed inputTokens"),
        (
            {"inputTokens": 1_000, "cacheReadTokens": 600, "cacheWrite1hTokens": 500},
            "cacheReadTokens",
            "= 1100 exceed inputTokens = 1000",
        ),
        ({"outputTokens": 10, "reasoningTokens": 11}, "reasoningTokens", "outputTokens = 10"),
        ({"cacheWrite5mTokens": -1}, "cacheWrite5mTokens", "must not be negative"),
        ({"reasoningTokens": 2**31}, "reasoningTokens", "must be at most"),
        ({"requestUnits": 1.5}, "requestUnits", "whole number"),
        ({"usage": {"prompt_tokens": 1}}, "usageFormat", "must be one of"),
        ({"usage": {"prompt_tokens": 1}, "usageFormat": "COHERE"}, "usageFormat", "COHERE"),
        ({"usageFormat": "OPENAI"}, "usage", "is required when usageFormat"),
        ({"usage": [1], "usageFormat": "OPENAI"}, "usage", "JSON object"),
        (
            {"usage": {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": -2}},
             "usageFormat": "OPENAI"},
            "usage.prompt_tokens_details.cached_tokens",
            "whole number",
        ),
        (
            {"usage": {"prompt_tokens": 10, "completion_tokens": 2}, "usageFormat": "OPENAI",
             "inputTokens": 9},
            "inputTokens",
            "is 9 but usage (OPENAI) gives 10",
        ),
    ],
)  # fmt: skip
async def test_a_bad_class_field_is_rejected_by_name_and_the_good_record_kept(
    client: httpx.AsyncClient, fields: dict[str, Any], field: str, reason_part: str
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    good = gateway_record(key)
    bad = gateway_record(key, **fields)

    verdict = (await post_bulk(client, token, [good, bad])).json()

    assert verdict["accepted"] == 1
    [rejected] = verdict["rejected"]
    assert (rejected["position"], rejected["field"]) == (1, field)
    assert reason_part in rejected["reason"]
    assert await RequestLog.filter(organization_id=org.id).count() == 1


async def test_the_mutation_takes_a_usage_object_with_its_format(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = _claude(key, usage=ANTHROPIC_USAGE)
    record.pop("apiKeyPrefix")
    record["apiKeyId"] = encode_global_id("ApiKey", key.id)

    result = await gql(
        client,
        token,
        "mutation($records: [RequestLogInput!]!) { ingestRequestLogs(records: $records) "
        "{ accepted rejected { field reason } } }",
        records=[{**record, "usageFormat": "ANTHROPIC"}],
    )

    assert result.errors is None, result.errors
    assert result.data == {"ingestRequestLogs": {"accepted": 1, "rejected": []}}
    log = await RequestLog.get(organization_id=org.id)
    assert (log.input_tokens, log.cache_read_tokens) == (112_000, 100_000)


async def test_reprice_prices_every_class_once_the_model_has_class_prices(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(
        key, model="mystery-2", providerModel=None, inputTokens=10_000, outputTokens=2_000,
        cacheReadTokens=6_000, cacheWrite1hTokens=1_000, reasoningTokens=500, requestUnits=3,
    )  # fmt: skip
    await post_bulk(client, token, [record])
    price = ModelPrice(
        "mystery-2", "acme", usd_to_nanos("2"), usd_to_nanos("8"),
        datetime(2024, 1, 1, tzinfo=UTC), cache_read_per_million_nanos=usd_to_nanos("0.2"),
        cache_write_1h_per_million_nanos=usd_to_nanos("4"),
        reasoning_per_million_nanos=usd_to_nanos("10"), per_unit_nanos=usd_to_nanos("0.01"),
        tiers=(TokenPrices(usd_to_nanos("4"), usd_to_nanos("16"), above_input_tokens=50_000),),
    )  # fmt: skip
    await save_prices([price])
    assert (await load_catalog()).price_for("mystery-2", datetime.now(UTC)) == price

    result = await reprice(org.id)

    assert (result.repriced, result.still_unpriced) == (1, 0)
    log = await RequestLog.get(organization_id=org.id)
    # 3,000 x 2 + 6,000 x 0.2 + 1,000 x 4 + 1,500 x 8 + 500 x 10 (per million) + 3 x $0.01
    assert (
        log.input_cost_nanos,
        log.cache_read_cost_nanos,
        log.cache_write_cost_nanos,
        log.output_cost_nanos,
        log.reasoning_cost_nanos,
        log.request_cost_nanos,
        log.cache_savings_nanos,
    ) == (
        usd_to_nanos("0.006"),
        usd_to_nanos("0.0012"),
        usd_to_nanos("0.004"),
        usd_to_nanos("0.012"),
        usd_to_nanos("0.005"),
        usd_to_nanos("0.03"),
        usd_to_nanos("0.0088"),  # 7,000 x 2 - (1,200 + 4,000), per million
    )
    assert log.provider_cost_nanos == usd_to_nanos("0.0582")
    await assert_rollups_match_raw_scan(org.id)


_TOTALS = """
{ organization { usage(filter: { period: LAST_24_HOURS }) { totals {
    inputTokens cacheReadTokens cacheWriteTokens cacheWrite5mTokens cacheWrite1hTokens
    uncachedInputTokens reasoningTokens requestUnits cacheHitRate uncachedInputCost
    cacheReadCost cacheWriteCost nonReasoningOutputCost reasoningCost requestCost
    cacheSavings providerCost
} } } }
"""


async def test_each_role_reads_the_class_totals_of_its_scope(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    other = await make_member(org, Role.MEMBER)
    token = await make_ingest_token(org)
    mine = _claude(await make_key(org, member), usage=ANTHROPIC_USAGE, usageFormat="ANTHROPIC")
    theirs = _claude(
        await make_key(org, other), inputTokens=3_000, outputTokens=100, cacheReadTokens=1_000,
        reasoningTokens=40,
    )  # fmt: skip
    elsewhere = await make_org()
    await post_bulk(
        client,
        await make_ingest_token(elsewhere),
        [_claude(await make_key(elsewhere), inputTokens=10, outputTokens=1, cacheReadTokens=9)],
    )
    await post_bulk(client, token, [mine, theirs])

    team = {
        "inputTokens": 115_000,
        "cacheReadTokens": 101_000,
        "cacheWriteTokens": 10_000,
        "cacheWrite5mTokens": 10_000,
        "cacheWrite1hTokens": 0,
        "uncachedInputTokens": 4_000,
        "reasoningTokens": 40,
        "requestUnits": 0,
        "cacheHitRate": "87.826086957",  # 101,000 / 115,000 x 100
        "uncachedInputCost": "0.012",  # (2,000 + 2,000) x $3/M
        "cacheReadCost": "0.0303",
        "cacheWriteCost": "0.0375",
        "nonReasoningOutputCost": "0.0159",  # (1,000 + 60) x $15/M
        "reasoningCost": "0.0006",
        "requestCost": "0.00",
        "cacheSavings": "0.2652",  # 0.2625 + 1,000 x (3 - 0.30)/M
        "providerCost": "0.0963",
    }
    own = {
        **team,
        "inputTokens": 112_000,
        "cacheReadTokens": 100_000,
        "uncachedInputTokens": 2_000,
        "reasoningTokens": 0,
        "cacheHitRate": "89.285714286",
        "uncachedInputCost": "0.006",
        "cacheReadCost": "0.03",
        "nonReasoningOutputCost": "0.015",
        "reasoningCost": "0.00",
        "cacheSavings": "0.2625",
        "providerCost": "0.0885",
    }
    for viewer, expected in ((owner, team), (admin, team), (member, own)):
        result = await gql(client, await make_token(viewer), _TOTALS)
        assert result.errors is None, result.errors
        assert result.data is not None
        assert result.data["organization"]["usage"]["totals"] == expected, viewer.role


async def test_a_log_shows_its_classes_and_the_hit_rate_is_null_without_input(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_ingest_token(org)
    await post_bulk(
        client,
        token,
        [_claude(await make_key(org), usage=ANTHROPIC_USAGE, usageFormat="ANTHROPIC")],
    )

    result = await gql(
        client,
        await make_token(owner),
        "{ organization { requestLogs(first: 1) { edges { node { cacheReadTokens "
        "cacheWrite5mTokens cacheWrite1hTokens reasoningTokens requestUnits uncachedInputCost "
        "cacheReadCost cacheWriteCost nonReasoningOutputCost reasoningCost requestCost "
        "cacheSavings providerCost } } }"
        ' empty: usage(filter: { models: ["none"] }) { totals { cacheHitRate } } } }',
    )

    assert result.errors is None, result.errors
    assert result.data is not None
    [edge] = result.data["organization"]["requestLogs"]["edges"]
    assert edge["node"] == {
        "cacheReadTokens": 100_000,
        "cacheWrite5mTokens": 10_000,
        "cacheWrite1hTokens": 0,
        "reasoningTokens": 0,
        "requestUnits": 0,
        "uncachedInputCost": "0.006",
        "cacheReadCost": "0.03",
        "cacheWriteCost": "0.0375",
        "nonReasoningOutputCost": "0.015",
        "reasoningCost": "0.00",
        "requestCost": "0.00",
        "cacheSavings": "0.2625",
        "providerCost": "0.0885",
    }
    assert result.data["organization"]["empty"] == {"totals": {"cacheHitRate": None}}


async def test_units_pricing_a_request_past_the_bound_are_named(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    # dall-e-3: $0.04 per image; 250,001 images cost $10,000.04, past the $10,000 bound.
    images = gateway_record(
        key, model="dall-e-3", providerModel=None, endpoint="/v1/images/generations",
        inputTokens=0, outputTokens=0, requestUnits=250_001,
    )  # fmt: skip
    fine = {**images, "requestId": str(uuid4()), "requestUnits": 2}

    verdict = (await post_bulk(client, token, [images, fine])).json()

    assert verdict["accepted"] == 1
    [rejected] = verdict["rejected"]
    assert rejected["field"] == "requestUnits"
    assert rejected["reason"].startswith("costs 10000.04 USD with markup and fee")
    log = await RequestLog.get(organization_id=org.id)
    assert (log.request_units, log.request_cost_nanos) == (2, usd_to_nanos("0.08"))


async def test_exports_carry_the_classes_of_logs_and_of_usage(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_ingest_token(org)
    record = _claude(await make_key(org), usage=ANTHROPIC_USAGE, usageFormat="ANTHROPIC")
    await post_bulk(client, token, [record])
    headers = {"Authorization": f"Bearer {await make_token(owner)}"}

    logs = await client.get(
        "/export/request-logs.jsonl", params={"period": "LAST_24_HOURS"}, headers=headers
    )
    breakdown = await client.get(
        "/export/usage/breakdown.jsonl",
        params={"period": "LAST_24_HOURS", "by": "MODEL"},
        headers=headers,
    )

    [log] = [json.loads(line) for line in logs.text.splitlines()]
    assert {name: log[name] for name in ("cacheReadTokens", "cacheWrite5mTokens")} == {
        "cacheReadTokens": 100_000,
        "cacheWrite5mTokens": 10_000,
    }
    assert (log["cacheReadCost"], log["cacheWriteCost"], log["cacheSavings"]) == (
        "0.03",
        "0.0375",
        "0.2625",
    )
    [group] = [json.loads(line) for line in breakdown.text.splitlines()]
    assert (group["model"], group["cacheHitRate"], group["uncachedInputCost"]) == (
        "claude-sonnet-4-5",
        "89.285714286",
        "0.006",
    )
