"""Organization.usage.totals: the seed's key metrics, exact, and scoped by role.

Organizations use the seed's pricing (25% markup, $0.01 fee): a request at $0.10 provider
cost costs the customer exactly $0.135.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.global_ids import encode_global_id
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

TOTALS = """
query Totals($filter: UsageFilter) {
  organization {
    usage(filter: $filter) {
      from to timezone
      totals {
        requests successful failed clientErrors serverErrors successRate errorRate
        inputTokens outputTokens totalTokens providerCost markup fixedFees customerCost
        averageCostPerRequest averageLatencyMs unpricedRequests
      }
    }
  }
}
"""
START = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
WINDOW = {"from": "2024-05-06T00:00:00Z", "to": "2024-05-07T00:00:00Z"}


async def _seed_org() -> Any:
    return await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)


def _totals(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    return dict(result.data["organization"]["usage"]["totals"])


async def test_three_requests_at_the_seed_price_average_exactly_0_135(
    client: httpx.AsyncClient,
) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*(make_record(org, key, owner, START + timedelta(minutes=i)) for i in range(3)))

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["requests"] == 3
    assert totals["providerCost"] == "0.30"
    assert totals["markup"] == "0.075"
    assert totals["fixedFees"] == "0.03"
    assert totals["customerCost"] == "0.405"
    assert totals["averageCostPerRequest"] == "0.135"


async def test_success_rate_is_2xx_over_all_responses_times_100(
    client: httpx.AsyncClient,
) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    codes = [200, 200, 201, 429, 500, 503]
    await store(
        *(
            make_record(org, key, owner, START + timedelta(seconds=i), status_code=code)
            for i, code in enumerate(codes)
        )
    )

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["requests"] == 6
    assert totals["successful"] == 3
    assert totals["failed"] == 3
    assert totals["clientErrors"] == 1
    assert totals["serverErrors"] == 2
    assert totals["successRate"] == "50"
    assert totals["errorRate"] == "50"


async def test_rates_and_averages_are_exact_to_nine_decimals(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, START, status_code=200, latency_ms=1000),
        make_record(org, key, owner, START, status_code=200, latency_ms=1000),
        make_record(org, key, owner, START, status_code=500, latency_ms=1001),
    )

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["successRate"] == "66.666666667"
    assert totals["errorRate"] == "33.333333333"
    assert totals["averageLatencyMs"] == "1000.333333333"


async def test_tokens_are_summed_input_plus_output(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    big = 3_000_000_000  # past 32 bits: BigInt
    await store(
        make_record(org, key, owner, START, input_tokens=big, output_tokens=7),
        make_record(org, key, owner, START, input_tokens=5, output_tokens=11),
    )

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["inputTokens"] == big + 5
    assert totals["outputTokens"] == 18
    assert totals["totalTokens"] == big + 23


async def test_no_requests_gives_zero_sums_and_null_rates(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["requests"] == 0
    assert totals["customerCost"] == "0.00"
    assert totals["successRate"] is None
    assert totals["errorRate"] is None
    assert totals["averageCostPerRequest"] is None
    assert totals["averageLatencyMs"] is None


async def test_unpriced_requests_are_counted(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, START),
        make_record(
            org,
            key,
            owner,
            START,
            priced=False,
            provider_cost_nanos=0,
            markup_nanos=0,
            fixed_fee_nanos=0,
            customer_cost_nanos=0,
        ),
    )

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=WINDOW))

    assert totals["requests"] == 2
    assert totals["unpricedRequests"] == 1
    assert totals["customerCost"] == "0.135"


async def test_range_edges_at_arbitrary_seconds_count_exactly(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    edge = datetime(2024, 5, 6, 10, 7, 13, tzinfo=UTC)
    await store(
        make_record(org, key, owner, edge - timedelta(seconds=1)),
        make_record(org, key, owner, edge),
        make_record(org, key, owner, edge + timedelta(hours=30)),
        make_record(org, key, owner, edge + timedelta(hours=30, seconds=1)),
    )
    window = {"from": edge.isoformat(), "to": (edge + timedelta(hours=30, seconds=1)).isoformat()}

    totals = _totals(await gql(client, await make_token(owner), TOTALS, filter=window))

    assert totals["requests"] == 2
    assert totals["customerCost"] == "0.27"


async def test_report_echoes_its_range_in_the_filter_timezone(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)

    result = await gql(
        client,
        await make_token(owner),
        TOTALS,
        filter={**WINDOW, "timezone": "Asia/Kathmandu"},
    )

    assert result.errors is None
    usage = result.data["organization"]["usage"]
    assert usage["from"] == "2024-05-06T05:45:00.000000+05:45"
    assert usage["to"] == "2024-05-07T05:45:00.000000+05:45"
    assert usage["timezone"] == "Asia/Kathmandu"


async def test_member_totals_cover_only_their_own_requests(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    team_key = await make_key(org, None)
    await store(
        make_record(org, team_key, member, START),
        make_record(org, team_key, colleague, START),
        make_record(org, team_key, colleague, START),
        make_record(org, team_key, None, START),
    )

    totals = _totals(await gql(client, await make_token(member), TOTALS, filter=WINDOW))

    assert totals["requests"] == 1
    assert totals["customerCost"] == "0.135"


async def test_admin_and_owner_totals_cover_the_whole_team(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    admin = await make_member(org, Role.ADMIN)
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER)
    team_key = await make_key(org, None)
    await store(
        make_record(org, team_key, member, START),
        make_record(org, team_key, admin, START),
        make_record(org, team_key, None, START),
    )

    for viewer in (admin, owner):
        totals = _totals(await gql(client, await make_token(viewer), TOTALS, filter=WINDOW))
        assert totals["requests"] == 3
        assert totals["customerCost"] == "0.405"


async def test_admin_only_mine_counts_their_own_requests(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    await store(make_record(org, key, admin, START), make_record(org, key, member, START))

    totals = _totals(
        await gql(client, await make_token(admin), TOTALS, filter={**WINDOW, "onlyMine": True})
    )

    assert totals["requests"] == 1


async def test_member_naming_another_member_is_forbidden(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)

    result = await gql(
        client,
        await make_token(member),
        TOTALS,
        filter={**WINDOW, "memberIds": [encode_global_id("Member", colleague.id)]},
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None or result.data["organization"] is None


async def test_member_naming_themselves_is_allowed(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, member)
    await store(make_record(org, key, member, START))

    totals = _totals(
        await gql(
            client,
            await make_token(member),
            TOTALS,
            filter={**WINDOW, "memberIds": [encode_global_id("Member", member.id)]},
        )
    )

    assert totals["requests"] == 1


async def test_another_organizations_ids_match_nothing_like_missing_ids(
    client: httpx.AsyncClient,
) -> None:
    org = await _seed_org()
    other = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    stranger = await make_member(other, Role.OWNER)
    stranger_key = await make_key(other, stranger)
    await store(
        make_record(org, key, owner, START),
        make_record(other, stranger_key, stranger, START),
    )
    token = await make_token(owner)

    answers = []
    for key_id, member_id in ((stranger_key.id, stranger.id), (999_999, 999_998)):
        result = await gql(
            client,
            token,
            TOTALS,
            filter={
                **WINDOW,
                "apiKeyIds": [encode_global_id("ApiKey", key_id)],
                "memberIds": [encode_global_id("Member", member_id)],
            },
        )
        answers.append(_totals(result))

    assert answers[0] == answers[1]
    assert answers[0]["requests"] == 0


async def test_filters_combine_models_keys_and_status_classes(client: httpx.AsyncClient) -> None:
    org = await _seed_org()
    owner = await make_member(org, Role.OWNER)
    first, second = await make_key(org, owner), await make_key(org, owner)
    await store(
        make_record(org, first, owner, START, model="gpt-4"),
        make_record(org, first, owner, START, model="gpt-4", status_code=500),
        make_record(org, first, owner, START, model="claude-3-opus"),
        make_record(org, second, owner, START, model="gpt-4"),
    )

    totals = _totals(
        await gql(
            client,
            await make_token(owner),
            TOTALS,
            filter={
                **WINDOW,
                "models": ["gpt-4"],
                "apiKeyIds": [encode_global_id("ApiKey", first.id)],
                "statusClasses": ["SUCCESS"],
            },
        )
    )

    assert totals["requests"] == 1


async def test_ingest_tokens_cannot_read_usage(client: httpx.AsyncClient) -> None:
    from tests.factories import make_ingest_token

    org = await _seed_org()

    result = await gql(client, await make_ingest_token(org), TOTALS, filter=WINDOW)

    assert result.error_codes == ["FORBIDDEN"]
