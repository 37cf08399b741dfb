"""UsageReport.breakdown: groups by one or several dimensions, ordered and limited; Admin/Owner
only; keys and members resolved without N+1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import count_queries

BREAKDOWN = """
query Breakdown($filter: UsageFilter, $by: [UsageDimension!]!, $orderBy: UsageOrder,
                $limit: Int! = 20) {
  organization { usage(filter: $filter) {
    breakdown(by: $by, orderBy: $orderBy, limit: $limit) {
      model providerModel statusCode endpoint hasMember
      apiKey { label } member { name }
      totals { requests customerCost totalTokens averageLatencyMs errorRate }
    }
  } }
}
"""
WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


async def _breakdown(client: httpx.AsyncClient, viewer: Any, **variables: Any) -> Any:
    return await gql(client, await make_token(viewer), BREAKDOWN, filter=WINDOW, **variables)


def _groups(result: Any) -> list[dict[str, Any]]:
    assert result.errors is None, result.errors
    return list(result.data["organization"]["usage"]["breakdown"])


async def test_cost_per_model_is_ordered_by_cost_descending(client: httpx.AsyncClient) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, AT, model="gpt-3.5-turbo", provider_cost_nanos=2_000_000),
        make_record(org, key, owner, AT, model="gpt-4"),
        make_record(org, key, owner, AT, model="gpt-4"),
    )

    groups = _groups(await _breakdown(client, owner, by=["MODEL"]))

    assert [(g["model"], g["totals"]["requests"], g["totals"]["customerCost"]) for g in groups] == [
        ("gpt-4", 2, "0.27"),
        ("gpt-3.5-turbo", 1, "0.0125"),
    ]
    assert groups[0]["apiKey"] is None and groups[0]["statusCode"] is None


async def test_several_dimensions_at_once(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner, label="prod")
    await store(
        make_record(org, key, owner, AT, model="gpt-4", status_code=200),
        make_record(org, key, owner, AT, model="gpt-4", status_code=429),
        make_record(org, key, owner, AT, model="gpt-4", status_code=429),
        make_record(org, key, owner, AT, model="claude-3-opus", status_code=200),
    )

    groups = _groups(
        await _breakdown(
            client,
            owner,
            by=["MODEL", "STATUS_CODE", "API_KEY"],
            orderBy={"field": "REQUESTS", "direction": "DESC"},
        )
    )

    assert [
        (g["model"], g["statusCode"], g["apiKey"]["label"], g["totals"]["requests"]) for g in groups
    ] == [
        ("gpt-4", 429, "prod", 2),
        ("claude-3-opus", 200, "prod", 1),
        ("gpt-4", 200, "prod", 1),
    ]


async def test_every_dimension_reads_its_own_column(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER, name="Olga")
    key = await make_key(org, None, label="team")
    await store(
        make_record(org, key, owner, AT, endpoint="/v1/embeddings", provider_model="ada-002"),
        make_record(org, key, None, AT, endpoint="/v1/chat/completions"),
    )

    by_endpoint = _groups(await _breakdown(client, owner, by=["ENDPOINT"]))
    by_provider = _groups(await _breakdown(client, owner, by=["PROVIDER_MODEL"]))
    by_member = _groups(await _breakdown(client, owner, by=["MEMBER"]))

    assert sorted(g["endpoint"] for g in by_endpoint) == ["/v1/chat/completions", "/v1/embeddings"]
    assert sorted(g["providerModel"] for g in by_provider) == ["ada-002", "gpt-4-0613"]
    assert sorted((g["hasMember"], g["member"] and g["member"]["name"]) for g in by_member) == [
        (False, None),
        (True, "Olga"),
    ]


@pytest.mark.parametrize(
    ("field", "direction", "expected"),
    [
        ("COST", "ASC", ["a", "b", "c"]),
        ("REQUESTS", "DESC", ["c", "a", "b"]),
        ("TOKENS", "DESC", ["b", "c", "a"]),
        ("AVERAGE_LATENCY", "DESC", ["a", "b", "c"]),
        ("ERROR_RATE", "DESC", ["b", "a", "c"]),
        ("ERROR_RATE", "ASC", ["c", "a", "b"]),
    ],
)
async def test_order_by_each_field(
    client: httpx.AsyncClient, field: str, direction: str, expected: list[str]
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        # a: 2 requests, cheap, slow, half failed
        make_record(org, key, owner, AT, model="a", provider_cost_nanos=1, latency_ms=900),
        make_record(
            org, key, owner, AT, model="a", provider_cost_nanos=1, latency_ms=900, status_code=500
        ),
        # b: 1 request, mid cost, many tokens, all failed
        make_record(
            org,
            key,
            owner,
            AT,
            model="b",
            provider_cost_nanos=50,
            input_tokens=10_000,
            latency_ms=500,
            status_code=429,
        ),
        # c: 3 requests, dear, fast, no failures
        *(
            make_record(org, key, owner, AT, model="c", provider_cost_nanos=100, latency_ms=100)
            for _ in range(3)
        ),
    )

    groups = _groups(
        await _breakdown(
            client, owner, by=["MODEL"], orderBy={"field": field, "direction": direction}
        )
    )

    assert [g["model"] for g in groups] == expected


async def test_ties_are_ordered_by_value(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*(make_record(org, key, owner, AT, model=m) for m in ("zeta", "alpha", "mu")))

    groups = _groups(await _breakdown(client, owner, by=["MODEL"]))

    assert [g["model"] for g in groups] == ["alpha", "mu", "zeta"]


async def test_limit_keeps_the_top_groups_and_is_bounded(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        *(make_record(org, key, owner, AT, model=f"m{i}", provider_cost_nanos=i) for i in range(5))
    )

    top = _groups(await _breakdown(client, owner, by=["MODEL"], limit=2))
    too_many = await _breakdown(client, owner, by=["MODEL"], limit=101)
    too_few = await _breakdown(client, owner, by=["MODEL"], limit=0)
    nothing = await _breakdown(client, owner, by=[])

    assert [g["model"] for g in top] == ["m4", "m3"]
    assert too_many.error_codes == ["BAD_USER_INPUT"]
    assert "limit" in too_many.errors[0]["message"]  # type: ignore[index]
    assert too_few.error_codes == ["BAD_USER_INPUT"]
    assert nothing.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("dimension", ["MEMBER", "API_KEY", "MODEL", "STATUS_CODE", "ENDPOINT"])
async def test_members_cannot_see_breakdowns(client: httpx.AsyncClient, dimension: str) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, member)
    await store(make_record(org, key, member, AT))

    result = await _breakdown(client, member, by=[dimension])

    assert result.error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_see_breakdowns_by_member(
    client: httpx.AsyncClient, role: Role
) -> None:
    org = await make_org()
    viewer = await make_member(org, role, name="Viewer")
    member = await make_member(org, Role.MEMBER, name="Mia")
    key = await make_key(org, None)
    await store(
        make_record(org, key, member, AT),
        make_record(org, key, member, AT),
        make_record(org, key, viewer, AT),
    )

    groups = _groups(await _breakdown(client, viewer, by=["MEMBER"]))

    assert [(g["member"]["name"], g["totals"]["requests"]) for g in groups] == [
        ("Mia", 2),
        ("Viewer", 1),
    ]


async def _org_with_keys(count: int) -> tuple[Any, Any]:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    records = []
    for i in range(count):
        person = await make_member(org, Role.MEMBER)
        key = await make_key(org, person, label=f"key-{i:03d}")
        records.append(make_record(org, key, person, AT + timedelta(seconds=i)))
    await store(*records)
    return org, owner


KEY_BREAKDOWN = """
query($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    breakdown(by: [API_KEY], limit: 100) { apiKey { label owner { name } } totals { requests } }
  } }
}
"""


async def test_breakdown_by_key_runs_a_fixed_number_of_statements(
    client: httpx.AsyncClient,
) -> None:
    counts = {}
    for size in (5, 50):
        _, owner = await _org_with_keys(size)
        token = await make_token(owner)
        with count_queries() as queries:
            result = await gql(client, token, KEY_BREAKDOWN, filter=WINDOW)
        groups = _groups(result)
        assert len(groups) == size
        assert all(g["apiKey"]["owner"]["name"] for g in groups)
        counts[size] = queries.count

    assert counts[5] == counts[50]
    # the token's organization (lookup), the token with its organization + last-used update,
    # breakdown, keys, owners
    assert counts[50] == 6
