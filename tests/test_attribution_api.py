"""Tags and end users through the API: ingest (normal form, per-record errors), the logs'
fields and filters, breakdowns, role scoping, another tenant, exports, and LIFETIME totals."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from models.attribution import (
    MAX_END_USER_BYTES,
    MAX_TAG_BYTES,
    MAX_TAGS,
    TagError,
    normalize_end_user,
    normalize_tags,
)
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.priced_record import PricedRecord
from models.request_log import RequestLog
from pricing.money import format_usd
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)

NOW = datetime.now(UTC).replace(microsecond=0)

INGEST = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) { accepted rejected { position field reason } }
}
"""
LOGS = """
query Logs($filter: UsageFilter) {
  organization {
    usage(filter: $filter) { totals { requests customerCost } }
    requestLogs(filter: $filter, first: 100) { edges { node { requestId tags endUser } } }
  }
}
"""
BREAKDOWN = """
query Breakdown($filter: UsageFilter, $by: [UsageDimension!]!) {
  organization {
    usage(filter: $filter) {
      breakdown(by: $by, limit: 100) { tag endUser model totals { requests customerCost } }
    }
  }
}
"""


# --- normal form and bounds (pure) ---------------------------------------------------------


def test_tags_are_trimmed_lowercased_distinct_and_sorted() -> None:
    assert normalize_tags([" Team:Search ", "feature:chat", "team:search", "A-B_c.d/e=f@g+h"]) == (
        "a-b_c.d/e=f@g+h",
        "feature:chat",
        "team:search",
    )
    assert normalize_tags(None) == ()
    assert normalize_tags([]) == ()


@pytest.mark.parametrize(
    ("tags", "index", "reason"),
    [
        ("chat", None, "must be a list of strings, got str"),
        (["ok", 7], 1, "must be a string, got int"),
        (["ok", "  "], 1, "must not be empty"),
        (["a" * (MAX_TAG_BYTES + 1)], 0, f"must be at most {MAX_TAG_BYTES} bytes, got 65"),
        (["ok", "two words"], 1, "'two words' may hold only a-z, 0-9 and _ - . : / = @ + "),
        (["-lead"], 0, "'-lead' may hold only a-z, 0-9 and _ - . : / = @ + "),
        (["café"], 0, "'café' may hold only a-z, 0-9 and _ - . : / = @ + "),
        ([f"t{i}" for i in range(MAX_TAGS + 1)], MAX_TAGS, "at most 10 distinct tags"),
    ],
)
def test_a_bad_tag_list_names_the_tag_and_why(tags: Any, index: int | None, reason: str) -> None:
    with pytest.raises(TagError) as caught:
        normalize_tags(tags)
    assert caught.value.index == index
    assert reason in caught.value.reason


def test_repeats_do_not_count_against_the_bound() -> None:
    assert normalize_tags(["x"] * 50 + [f"t{i}" for i in range(MAX_TAGS - 1)]) == tuple(
        sorted(["x", *(f"t{i}" for i in range(MAX_TAGS - 1))])
    )


def test_end_users_are_trimmed_case_kept_and_bounded() -> None:
    assert normalize_end_user("  User-42 ") == "User-42"
    assert normalize_end_user("   ") is None
    assert normalize_end_user(None) is None
    assert normalize_end_user("é" * (MAX_END_USER_BYTES // 2)) == "é" * 64
    with pytest.raises(ValueError, match="at most 128 bytes, got 130"):
        normalize_end_user("é" * 65)
    with pytest.raises(ValueError, match="control characters"):
        normalize_end_user("a\nb")
    with pytest.raises(ValueError, match="must be a string, got int"):
        normalize_end_user(42)


# --- ingest ------------------------------------------------------------------------------


def _record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "timestamp": (NOW - timedelta(minutes=3)).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 10,
        "outputTokens": 5,
        "latencyMs": 300,
        "statusCode": 200,
        "providerCost": "0.01",
    }
    base.update(fields)
    return base


async def test_ingest_stores_normal_tags_and_names_the_bad_tag(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    key_id = encode_global_id("ApiKey", key.id)
    good = _record(apiKeyId=key_id, tags=["Feature:Chat ", "customer=acme", "feature:chat"])
    records = [
        good,
        _record(apiKeyId=key_id, tags=["ok", "bad tag"]),
        _record(apiKeyId=key_id, tags=[f"t{i}" for i in range(11)]),
        _record(apiKeyId=key_id, endUser="x" * 129),
        _record(apiKeyId=key_id, endUser=" user-7 "),
    ]

    result = await gql(client, token, INGEST, records=records)

    assert result.errors is None
    assert result.data == {
        "ingestRequestLogs": {
            "accepted": 2,
            "rejected": [
                {
                    "position": 1,
                    "field": "tags[1]",
                    "reason": "'bad tag' may hold only a-z, 0-9 and _ - . : / = @ + "
                    "(starting with a letter or digit)",
                },
                {
                    "position": 2,
                    "field": "tags[10]",
                    "reason": "a request carries at most 10 distinct tags",
                },
                {"position": 3, "field": "endUser", "reason": "must be at most 128 bytes, got 129"},
            ],
        }
    }
    stored = {str(log.request_id): log for log in await RequestLog.filter(organization_id=org.id)}
    assert stored[good["requestId"]].tags == ["customer=acme", "feature:chat"]
    assert stored[good["requestId"]].end_user is None
    assert stored[records[4]["requestId"]].tags is None
    assert stored[records[4]["requestId"]].end_user == "user-7"


# --- reads -------------------------------------------------------------------------------


class Team:
    def __init__(self, org: Organization, admin: Member, alice: Member, bob: Member) -> None:
        self.org, self.admin, self.alice, self.bob = org, admin, alice, bob
        self.records: list[PricedRecord] = []


@pytest.fixture
async def team(db: object) -> Team:
    """Alice and Bob tag their requests; another organization uses the same tags."""
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    team = Team(
        org,
        await make_member(org, Role.ADMIN),
        await make_member(org, Role.MEMBER),
        await make_member(org, Role.MEMBER),
    )
    alice_key = await make_key(org, team.alice)
    bob_key = await make_key(org, team.bob)
    at = NOW - timedelta(hours=2)
    team.records = [
        make_record(org, alice_key, team.alice, at, tags=("acme", "chat"), end_user="u1"),
        make_record(org, alice_key, team.alice, at, tags=("chat",), provider_cost_nanos=7),
        make_record(org, bob_key, team.bob, at, tags=("acme", "search"), end_user="u2"),
        make_record(org, bob_key, team.bob, at, model="claude-3-opus", end_user="u1"),
    ]
    other = await make_org()
    other_key = await make_key(other)
    await store(
        *team.records,
        make_record(other, other_key, None, at, tags=("acme", "chat", "search"), end_user="u1"),
    )
    return team


def _cost(records: list[PricedRecord]) -> str:
    return format_usd(sum(r.customer_cost_nanos for r in records))


async def _logs(client: httpx.AsyncClient, token: str, usage_filter: dict[str, Any]) -> Any:
    result = await gql(client, token, LOGS, filter={"period": "LAST_24_HOURS", **usage_filter})
    assert result.errors is None, result.errors
    organization = result.data["organization"]  # type: ignore[index]
    ids = {edge["node"]["requestId"] for edge in organization["requestLogs"]["edges"]}
    return ids, organization["usage"]["totals"]


def _ids(records: list[PricedRecord]) -> set[str]:
    return {str(r.request_id) for r in records}


@pytest.mark.parametrize(
    ("usage_filter", "chosen"),
    [
        ({"tags": {"any": ["chat"]}}, [0, 1]),
        ({"tags": {"any": ["CHAT ", "search"]}}, [0, 1, 2]),
        ({"tags": {"all": ["acme", "chat"]}}, [0]),
        ({"tags": {"all": ["acme"], "any": ["search", "nothing"]}}, [2]),
        ({"tags": {"any": []}}, []),
        ({"endUsers": ["u1"]}, [0, 3]),
        ({"endUsers": ["U1"]}, []),
        ({"endUsers": ["u1"], "tags": {"any": ["acme"]}}, [0]),
    ],
)
async def test_tag_and_end_user_filters_choose_exactly_the_matching_requests(
    client: httpx.AsyncClient, team: Team, usage_filter: dict[str, Any], chosen: list[int]
) -> None:
    token = await make_token(team.admin)
    expected = [team.records[i] for i in chosen]

    ids, totals = await _logs(client, token, usage_filter)

    assert ids == _ids(expected)
    assert totals == {"requests": len(expected), "customerCost": _cost(expected)}


async def test_logs_show_tags_and_end_user(client: httpx.AsyncClient, team: Team) -> None:
    token = await make_token(team.admin)
    result = await gql(client, token, LOGS, filter={"period": "LAST_24_HOURS"})
    assert result.errors is None
    nodes = {
        e["node"]["requestId"]: e["node"]
        for e in result.data["organization"]["requestLogs"]["edges"]  # type: ignore[index]
    }
    assert [nodes[str(r.request_id)]["tags"] for r in team.records] == [
        ["acme", "chat"],
        ["chat"],
        ["acme", "search"],
        [],
    ]
    assert [nodes[str(r.request_id)]["endUser"] for r in team.records] == ["u1", None, "u2", "u1"]


async def test_a_members_tags_and_end_users_are_only_their_own_requests(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.alice)

    ids, totals = await _logs(client, token, {"tags": {"any": ["acme", "search"]}})
    assert ids == _ids(team.records[:1])
    assert totals == {"requests": 1, "customerCost": _cost(team.records[:1])}
    ids, totals = await _logs(client, token, {"endUsers": ["u1", "u2"]})
    assert ids == _ids(team.records[:1])
    assert totals["requests"] == 1
    # A Member gets no breakdowns, by tag or otherwise.
    result = await gql(client, token, BREAKDOWN, filter={"period": "LAST_24_HOURS"}, by=["TAG"])
    assert result.error_codes == ["FORBIDDEN"]


async def test_tag_breakdown_counts_a_request_in_each_tag_and_never_another_tenants(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)
    r = team.records

    result = await gql(client, token, BREAKDOWN, filter={"period": "LAST_24_HOURS"}, by=["TAG"])

    assert result.errors is None
    groups = result.data["organization"]["usage"]["breakdown"]  # type: ignore[index]
    assert {g["tag"]: g["totals"] for g in groups} == {
        "chat": {"requests": 2, "customerCost": _cost([r[0], r[1]])},
        "acme": {"requests": 2, "customerCost": _cost([r[0], r[2]])},
        "search": {"requests": 1, "customerCost": _cost([r[2]])},
        "": {"requests": 1, "customerCost": _cost([r[3]])},
    }
    result = await gql(
        client, token, BREAKDOWN, filter={"period": "LAST_24_HOURS"}, by=["END_USER", "MODEL"]
    )
    groups = result.data["organization"]["usage"]["breakdown"]  # type: ignore[index]
    assert {(g["endUser"], g["model"]): g["totals"]["requests"] for g in groups} == {
        ("u1", "gpt-4"): 1,
        ("u1", "claude-3-opus"): 1,
        ("u2", "gpt-4"): 1,
        ("", "gpt-4"): 1,
    }


@pytest.mark.parametrize(
    ("usage_filter", "argument"),
    [
        ({"tags": {"any": ["ok", "not ok"]}}, "filter.tags.any[1]"),
        ({"tags": {"all": [f"t{i}" for i in range(51)]}}, "filter.tags.all"),
        ({"endUsers": ["u1", "  "]}, "filter.endUsers[1]"),
    ],
)
async def test_a_bad_tag_or_end_user_filter_is_bad_user_input_naming_it(
    client: httpx.AsyncClient, team: Team, usage_filter: dict[str, Any], argument: str
) -> None:
    token = await make_token(team.admin)
    result = await gql(client, token, LOGS, filter=usage_filter)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith(argument)


async def test_latency_is_not_grouped_by_tag(client: httpx.AsyncClient, team: Team) -> None:
    token = await make_token(team.admin)
    query = "{ organization { usage { latency { groups(by: TAG) { tag } } } } }"
    result = await gql(client, token, query)
    assert result.error_codes == ["BAD_USER_INPUT"]


# --- exports -----------------------------------------------------------------------------


async def test_exports_show_tags_and_end_user_and_filter_by_them(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)
    headers = {"Authorization": f"Bearer {token}"}
    params = {"period": "LAST_24_HOURS", "tagsAny": "acme,search"}

    response = await client.get("/export/request-logs.csv", params=params, headers=headers)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    by_id = {row["requestId"]: row for row in rows}
    assert set(by_id) == _ids([team.records[0], team.records[2]])
    assert orjson.loads(by_id[str(team.records[0].request_id)]["tags"]) == ["acme", "chat"]
    assert by_id[str(team.records[2].request_id)]["endUser"] == "u2"

    response = await client.get(
        "/export/request-logs.jsonl", params={"period": "LAST_24_HOURS"}, headers=headers
    )
    assert response.status_code == 200
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert {line["requestId"]: (line["tags"], line["endUser"]) for line in lines} == {
        str(r.request_id): (list(r.tags), r.end_user) for r in team.records
    }


# --- lifetime ----------------------------------------------------------------------------


async def test_lifetime_totals_are_every_stored_request_exactly(
    client: httpx.AsyncClient, db: object
) -> None:
    org = await make_org(timezone="Asia/Kathmandu", markup_bps=1000)
    admin = await make_member(org, Role.ADMIN)
    key = await make_key(org)
    instants = [
        datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2019, 12, 31, 18, 14, 59, tzinfo=UTC),
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
        NOW - timedelta(days=40),
        NOW - timedelta(minutes=1),
    ]
    records = [
        make_record(org, key, None, at, provider_cost_nanos=1_000_003 * (i + 1), tags=("x",))
        for i, at in enumerate(instants)
    ]
    await store(*records)
    token = await make_token(admin)
    query = """
    query Totals($filter: UsageFilter) {
      organization { usage(filter: $filter) { totals { requests totalTokens customerCost } } }
    }
    """

    lifetime = await gql(client, token, query, filter={"period": "LIFETIME"})
    recent = await gql(client, token, query, filter={"period": "LAST_30_DAYS"})
    tagged = await gql(client, token, query, filter={"period": "LIFETIME", "tags": {"all": ["x"]}})

    expected = {
        "requests": 5,
        "totalTokens": sum(r.total_tokens for r in records),
        "customerCost": _cost(records),
    }
    assert lifetime.errors is None, lifetime.errors
    assert lifetime.data["organization"]["usage"]["totals"] == expected  # type: ignore[index]
    assert tagged.data["organization"]["usage"]["totals"] == expected  # type: ignore[index]
    recent_totals = recent.data["organization"]["usage"]["totals"]  # type: ignore[index]
    assert recent_totals["requests"] == 1
    assert Decimal(recent_totals["customerCost"]) == Decimal(_cost(records[-1:]))

    comparison = """
    { organization { usage(filter: { period: LIFETIME }) { comparison {
        current { requests } previous { requests } weekOverWeek { previous { requests } }
    } } } }
    """
    compared = await gql(client, token, comparison)
    assert compared.errors is None, compared.errors
    # The week before "everything up to now" holds every request but the last minute's.
    assert compared.data["organization"]["usage"]["comparison"] == {  # type: ignore[index]
        "current": {"requests": 5},
        "previous": {"requests": 0},
        "weekOverWeek": {"previous": {"requests": 4}},
    }
