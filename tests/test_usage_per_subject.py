"""ApiKey.usage and Member.usage: per-key and per-member usage, batched per filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.global_ids import encode_global_id
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import count_queries

SUMMARY = "requests failed errorRate inputTokens outputTokens totalTokens cost modelsUsed"
KEYS = f"""
query($filter: UsageFilter) {{
  organization {{ apiKeys {{ label usage(filter: $filter) {{ {SUMMARY} }} }} }}
}}
"""
MEMBERS = f"""
query($filter: UsageFilter) {{
  organization {{ members {{ name usage(filter: $filter) {{ {SUMMARY} }} }} }}
}}
"""
WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


def _by_name(result: Any, field: str, name_field: str) -> dict[str, dict[str, Any]]:
    assert result.errors is None, result.errors
    return {row[name_field]: row["usage"] for row in result.data["organization"][field]}


async def test_key_usage_shows_requests_tokens_cost_models_and_error_rate(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    prod = await make_key(org, owner, label="prod")
    idle = await make_key(org, owner, label="idle")
    await store(
        make_record(org, prod, owner, AT, model="gpt-4"),
        make_record(org, prod, owner, AT, model="gpt-4", status_code=429),
        make_record(org, prod, owner, AT, model="claude-3-opus"),
        make_record(org, prod, owner, AT, model="gpt-4", status_code=500),
    )

    usage = _by_name(
        await gql(client, await make_token(owner), KEYS, filter=WINDOW), "apiKeys", "label"
    )

    assert usage["prod"] == {
        "requests": 4,
        "failed": 2,
        "errorRate": "50",
        "inputTokens": 400,
        "outputTokens": 200,
        "totalTokens": 600,
        "cost": "0.54",
        "modelsUsed": ["gpt-4", "claude-3-opus"],
    }
    assert usage["idle"] == {
        "requests": 0,
        "failed": 0,
        "errorRate": None,
        "inputTokens": 0,
        "outputTokens": 0,
        "totalTokens": 0,
        "cost": "0.00",
        "modelsUsed": [],
    }
    assert idle.id != prod.id


async def test_member_usage_for_admins_covers_each_person(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN, name="Ada")
    member = await make_member(org, Role.MEMBER, name="Bob")
    team = await make_key(org, None)
    await store(
        make_record(org, team, member, AT, model="gpt-4"),
        make_record(org, team, member, AT, model="gpt-3.5-turbo"),
        make_record(org, team, member, AT, model="gpt-3.5-turbo"),
        make_record(org, team, admin, AT, model="gpt-4"),
        make_record(org, team, None, AT, model="gpt-4"),
    )

    usage = _by_name(
        await gql(client, await make_token(admin), MEMBERS, filter=WINDOW), "members", "name"
    )

    assert usage["Bob"]["requests"] == 3
    assert usage["Bob"]["modelsUsed"] == ["gpt-3.5-turbo", "gpt-4"]
    assert usage["Ada"]["requests"] == 1


async def test_member_sees_only_own_usage_even_on_a_team_key(client: httpx.AsyncClient) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER, name="Mia")
    colleague = await make_member(org, Role.MEMBER)
    own = await make_key(org, member, label="own")
    await store(
        make_record(org, own, member, AT),
        make_record(org, own, colleague, AT),
    )
    token = await make_token(member)

    keys = _by_name(await gql(client, token, KEYS, filter=WINDOW), "apiKeys", "label")
    people = _by_name(await gql(client, token, MEMBERS, filter=WINDOW), "members", "name")

    assert keys == {"own": keys["own"]}
    assert keys["own"]["requests"] == 1
    assert people == {"Mia": people["Mia"]}
    assert people["Mia"]["requests"] == 1


async def test_the_filter_still_applies_to_subject_usage(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    first = await make_key(org, owner, label="first")
    second = await make_key(org, owner, label="second")
    await store(
        make_record(org, first, owner, AT, model="gpt-4"),
        make_record(org, first, owner, AT, model="claude-3-opus"),
        make_record(org, second, owner, AT, model="gpt-4"),
        make_record(org, second, owner, AT - timedelta(days=3), model="gpt-4"),
    )
    only_first_gpt4 = {
        **WINDOW,
        "models": ["gpt-4"],
        "apiKeyIds": [encode_global_id("ApiKey", first.id)],
    }

    usage = _by_name(
        await gql(client, await make_token(owner), KEYS, filter=only_first_gpt4), "apiKeys", "label"
    )

    assert usage["first"]["requests"] == 1
    assert usage["second"]["requests"] == 0


async def test_member_filtering_by_another_member_is_forbidden(client: httpx.AsyncClient) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)

    result = await gql(
        client,
        await make_token(member),
        MEMBERS,
        filter={**WINDOW, "memberIds": [encode_global_id("Member", colleague.id)]},
    )

    assert "FORBIDDEN" in result.error_codes


async def _org_with_key_count(count: int) -> Any:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    records = []
    for i in range(count):
        key = await make_key(org, owner, label=f"k{i}")
        records.append(make_record(org, key, owner, AT + timedelta(seconds=i)))
    await store(*records)
    return owner


async def test_key_usage_runs_one_query_per_distinct_filter(client: httpx.AsyncClient) -> None:
    query = """
    query($a: UsageFilter, $b: UsageFilter) {
      organization { apiKeys {
        label
        day: usage(filter: $a) { requests }
        week: usage(filter: $b) { requests }
        again: usage(filter: $a) { cost }
      } }
    }
    """
    week = {"from": "2024-04-25T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
    counts = {}
    for size in (3, 30):
        owner = await _org_with_key_count(size)
        token = await make_token(owner)
        with count_queries() as queries:
            result = await gql(client, token, query, a=WINDOW, b=week)
        assert result.errors is None, result.errors
        keys = result.data["organization"]["apiKeys"]
        assert len(keys) == size
        assert all(k["day"]["requests"] == 1 and k["week"]["requests"] == 1 for k in keys)
        counts[size] = queries.count

    assert counts[3] == counts[30]
    # the token's organization (lookup), the token with its organization (which also gives the
    # filters' timezone) + last-used update, keys, one usage query per distinct filter
    assert counts[30] == 6
