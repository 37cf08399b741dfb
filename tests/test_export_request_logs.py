"""GET /export/request-logs.csv|.jsonl: exactly the API's rows and totals, by role and scope."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from exports.request_logs import LOG_COLUMNS, request_log_export
from graph.rate_limiter import RateLimiter, RateLimits
from models.access_token import Scope as TokenScope
from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
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
UTC_ZONE = ZoneInfo("UTC")

LOGS_AND_TOTALS = """
query LogsAndTotals($filter: UsageFilter, $after: String) {
  organization {
    usage(filter: $filter) {
      totals { requests inputTokens outputTokens totalTokens customerCost providerCost }
    }
    requestLogs(filter: $filter, first: 100, after: $after) {
      edges { node {
        requestId timestamp apiKey { id label } member { id name } model providerModel
        endpoint inputTokens outputTokens totalTokens providerCost markup fixedFee
        customerCost priced latencyMs statusCode errorMessage metadata
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


@dataclass
class Team:
    org: Organization
    owner: Member
    admin: Member
    alice: Member
    bob: Member
    alice_key: ApiKey
    team_key: ApiKey


@pytest.fixture
async def team(db: object) -> Team:
    """A team with formula-looking labels and messages, and logs of several kinds."""
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER, name="Olive Owner")
    admin = await make_member(org, Role.ADMIN)
    alice = await make_member(org, Role.MEMBER, name='=HYPERLINK("http://x")')
    bob = await make_member(org, Role.MEMBER, name="Bob")
    alice_key = await make_key(org, alice, label="@alice key")
    bob_key = await make_key(org, bob, label='Bob\'s key, "main"')
    team_key = await make_key(org, None, label="+team")
    records = [
        make_record(org, alice_key, alice, NOW - timedelta(minutes=5)),
        make_record(
            org,
            alice_key,
            alice,
            NOW - timedelta(minutes=6),
            status_code=429,
            error_message="=cmd|' /C calc'!A0",
        ),
        make_record(
            org, team_key, bob, NOW - timedelta(minutes=7), status_code=503, model="gpt-3.5-turbo"
        ),
        make_record(
            org,
            bob_key,
            bob,
            NOW - timedelta(minutes=8),
            provider_cost_nanos=525,
            metadata={"temperature": 0.7, "note": "-1"},
        ),
        make_record(org, team_key, None, NOW - timedelta(minutes=9), endpoint="/v1/embeddings"),
        make_record(org, bob_key, bob, NOW - timedelta(days=3)),
    ]
    await store(*records)
    return Team(org, owner, admin, alice, bob, alice_key, team_key)


async def _export(
    client: httpx.AsyncClient, token: str | None, suffix: str = "csv", **params: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(f"/export/request-logs.{suffix}", params=params, headers=headers)


def _csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


def _unquote(cell: str) -> str:
    """A neutralized cell as the spreadsheet shows it."""
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@"} else cell


async def _api(client: httpx.AsyncClient, token: str, usage_filter: dict[str, Any]) -> Any:
    result = await gql(client, token, LOGS_AND_TOTALS, filter=usage_filter)
    assert result.errors is None, result.errors
    organization = result.data["organization"]  # type: ignore[index]
    assert organization["requestLogs"]["pageInfo"]["hasNextPage"] is False
    return organization


async def test_csv_export_parses_back_to_exactly_the_apis_rows_and_totals(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)
    usage_filter = {"period": "LAST_7_DAYS"}
    api = await _api(client, token, usage_filter)

    response = await _export(client, token, period="LAST_7_DAYS")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response)
    assert list(rows[0]) == [c.name for c in LOG_COLUMNS]
    nodes = [edge["node"] for edge in api["requestLogs"]["edges"]]
    assert len(rows) == len(nodes) == 6
    for row, node in zip(rows, nodes, strict=True):
        assert row["requestId"] == node["requestId"]
        assert datetime.fromisoformat(row["timestamp"]) == datetime.fromisoformat(node["timestamp"])
        assert row["apiKeyId"] == node["apiKey"]["id"]
        assert _unquote(row["apiKeyLabel"]) == node["apiKey"]["label"]
        assert row["memberId"] == (node["member"]["id"] if node["member"] else "")
        assert _unquote(row["memberName"]) == (node["member"]["name"] if node["member"] else "")
        for field in ("providerCost", "markup", "fixedFee", "customerCost"):
            assert row[field] == node[field]
        for field in ("inputTokens", "outputTokens", "totalTokens", "latencyMs", "statusCode"):
            assert int(row[field]) == node[field]
        assert row["priced"] == "true"
        assert _unquote(row["errorMessage"]) == (node["errorMessage"] or "")
        assert orjson.loads(row["metadata"]) == node["metadata"]
    totals = api["usage"]["totals"]
    assert len(rows) == int(totals["requests"])
    assert sum(Decimal(r["customerCost"]) for r in rows) == Decimal(totals["customerCost"])
    assert sum(Decimal(r["providerCost"]) for r in rows) == Decimal(totals["providerCost"])
    assert sum(int(r["inputTokens"]) for r in rows) == int(totals["inputTokens"])
    assert sum(int(r["outputTokens"]) for r in rows) == int(totals["outputTokens"])
    assert sum(int(r["totalTokens"]) for r in rows) == int(totals["totalTokens"])


async def test_json_lines_export_parses_back_to_exactly_the_apis_rows(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.owner)
    api = await _api(client, token, {"period": "LAST_30_DAYS"})

    response = await _export(client, token, "jsonl", period="LAST_30_DAYS")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    objects = [orjson.loads(line) for line in response.content.splitlines()]
    nodes = [edge["node"] for edge in api["requestLogs"]["edges"]]
    assert [o["requestId"] for o in objects] == [n["requestId"] for n in nodes]
    for item, node in zip(objects, nodes, strict=True):
        assert item["apiKeyLabel"] == node["apiKey"]["label"]
        assert item["errorMessage"] == node["errorMessage"]
        assert item["metadata"] == node["metadata"]
        assert item["customerCost"] == node["customerCost"]
        assert item["totalTokens"] == node["totalTokens"]
    totals = api["usage"]["totals"]
    assert sum(Decimal(o["customerCost"]) for o in objects) == Decimal(totals["customerCost"])


async def test_tiny_costs_are_plain_decimals_never_scientific(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await _export(client, await make_token(team.admin))

    costs = {row["providerCost"] for row in _csv_rows(response)}
    assert "0.000000525" in costs
    assert not any("E" in cost or "e" in cost for cost in costs)


async def test_user_text_that_looks_like_a_formula_is_neutralized(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await _export(client, await make_token(team.admin), period="LAST_24_HOURS")

    rows = _csv_rows(response)
    assert {r["errorMessage"] for r in rows} >= {"'=cmd|' /C calc'!A0"}
    assert "'@alice key" in {r["apiKeyLabel"] for r in rows}
    assert "'+team" in {r["apiKeyLabel"] for r in rows}
    assert '\'=HYPERLINK("http://x")' in {r["memberName"] for r in rows}
    assert 'Bob\'s key, "main"' in {r["apiKeyLabel"] for r in rows}
    for row in rows:
        for name, cell in row.items():
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, (name, cell)


async def test_filters_narrow_the_export_as_they_narrow_the_api(
    app: Starlette, client: httpx.AsyncClient, team: Team
) -> None:
    # Seven exports: more than a default token budget pays (five of AIZE_MAX_QUERY_COST).
    app.state.rate_limiter = RateLimiter(RateLimits(10**6, 10**6, 10**6, 50))
    token = await make_token(team.admin)
    alice_key = encode_global_id("ApiKey", team.alice_key.id)

    by_key = _csv_rows(await _export(client, token, apiKeyIds=alice_key))
    errors = _csv_rows(await _export(client, token, statusClasses="CLIENT_ERROR,SERVER_ERROR"))
    model = _csv_rows(await _export(client, token, models="gpt-3.5-turbo"))
    endpoint = _csv_rows(await _export(client, token, endpoints="/v1/embeddings"))
    codes = _csv_rows(await _export(client, token, statusCodes=["429", "503"]))
    window = _csv_rows(
        await _export(
            client,
            token,
            **{
                "from": (NOW - timedelta(days=4)).isoformat(),
                "to": (NOW - timedelta(days=1)).isoformat(),
            },
        )
    )
    nothing = _csv_rows(await _export(client, token, models=""))

    assert {r["apiKeyId"] for r in by_key} == {alice_key} and len(by_key) == 2
    assert sorted(r["statusCode"] for r in errors) == ["429", "503"]
    assert [r["model"] for r in model] == ["gpt-3.5-turbo"]
    assert [r["endpoint"] for r in endpoint] == ["/v1/embeddings"]
    assert sorted(r["statusCode"] for r in codes) == ["429", "503"]
    assert len(window) == 1
    assert nothing == []


async def test_only_mine_exports_the_callers_own_requests(
    client: httpx.AsyncClient, team: Team
) -> None:
    rows = _csv_rows(await _export(client, await make_token(team.admin), onlyMine="true"))

    assert rows == []


async def test_a_member_gets_403(client: httpx.AsyncClient, team: Team) -> None:
    response = await _export(client, await make_token(team.alice))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert "Admins and Owners" in response.json()["error"]["message"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_may_export(
    client: httpx.AsyncClient, team: Team, role: Role
) -> None:
    person = team.admin if role is Role.ADMIN else team.owner

    response = await _export(client, await make_token(person))

    assert response.status_code == 200
    assert len(_csv_rows(response)) == 6


async def test_a_token_without_the_export_scope_gets_403(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin, [TokenScope.READ, TokenScope.ADMIN])

    response = await _export(client, token)

    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "FORBIDDEN", "message": "this token lacks the 'export' scope"}
    }


async def test_an_ingest_token_gets_403(client: httpx.AsyncClient, team: Team) -> None:
    response = await _export(client, await make_ingest_token(team.org))

    assert response.status_code == 403


async def test_no_token_gets_401_json(client: httpx.AsyncClient, team: Team) -> None:
    response = await _export(client, None)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_another_organizations_logs_never_appear(
    client: httpx.AsyncClient, team: Team
) -> None:
    other = await make_org()
    other_owner = await make_member(other, Role.OWNER)
    other_key = await make_key(other, other_owner)
    await store(make_record(other, other_key, other_owner, NOW - timedelta(minutes=1)))

    mine = _csv_rows(await _export(client, await make_token(team.admin)))
    theirs = _csv_rows(await _export(client, await make_token(other_owner)))

    assert len(mine) == 6
    assert [r["apiKeyId"] for r in theirs] == [encode_global_id("ApiKey", other_key.id)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "YESTERDAY"}, "period: expected one of LAST_HOUR"),
        ({"from": "last week"}, "from: 'last week' is not an ISO 8601 date-time"),
        ({"from": "2024-05-01T00:00:00"}, "filter: 'from' must be timezone-aware"),
        ({"statusCodes": "abc"}, "statusCodes: expected a whole number"),
        ({"statusCodes": "42"}, "filter.statusCodes: 42 is not an HTTP status code"),
        ({"timezone": "Mars/Olympus"}, "filter: unknown timezone 'Mars/Olympus'"),
        ({"model": "gpt-4"}, "model: unknown parameter"),
        ({"onlyMine": "maybe"}, "onlyMine: expected true or false"),
        ({"period": ["LAST_HOUR", "LAST_7_DAYS"]}, "period: give it once"),
    ],
)
async def test_bad_parameters_get_400_naming_the_parameter(
    client: httpx.AsyncClient, team: Team, params: dict[str, Any], message: str
) -> None:
    response = await _export(client, await make_token(team.admin), **params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    assert message in response.json()["error"]["message"]


async def test_an_unknown_format_is_refused(client: httpx.AsyncClient, team: Team) -> None:
    response = await _export(client, await make_token(team.admin), "xml")

    assert response.status_code == 400
    assert "expected csv or jsonl" in response.json()["error"]["message"]


async def test_the_download_is_named_for_the_org_and_range(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await _export(
        client,
        await make_token(team.admin),
        **{"from": "2024-05-01T00:00:00Z", "to": "2024-06-01T00:00:00+00:00"},
    )

    assert response.headers["content-disposition"] == (
        f'attachment; filename="request-logs_{team.org.slug}_20240501T000000Z_20240601T000000Z.csv"'
    )
    assert response.headers["cache-control"] == "no-store"


async def test_an_offset_whose_plus_arrived_as_a_space_is_still_read(
    client: httpx.AsyncClient, team: Team
) -> None:
    start = (NOW - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S")
    url = f"/export/request-logs.csv?from={start}+00:00"
    headers = {"Authorization": f"Bearer {await make_token(team.admin)}"}

    response = await client.get(url, headers=headers)

    assert response.status_code == 200
    assert len(_csv_rows(response)) == 6


async def test_bodies_are_exported_only_when_the_org_keeps_them(
    client: httpx.AsyncClient, db: object
) -> None:
    for keeps in (False, True):
        org = await make_org(log_bodies=keeps)
        owner = await make_member(org, Role.OWNER)
        key = await make_key(org, owner)
        await store(
            make_record(org, key, owner, NOW, request_body='{"messages": []}', response_body="=1+1")
        )
        rows = _csv_rows(await _export(client, await make_token(owner)))
        if keeps:
            assert rows[0]["requestBody"] == '{"messages": []}'
            assert rows[0]["responseBody"] == "'=1+1"
        else:
            assert "requestBody" not in rows[0] and "responseBody" not in rows[0]


async def test_chunks_continue_exactly_after_each_other_on_equal_timestamps(db: object) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    same = NOW - timedelta(minutes=1)
    records = [make_record(org, key, owner, same) for _ in range(7)]
    records += [make_record(org, key, owner, same - timedelta(seconds=s)) for s in range(1, 4)]
    await store(*records)
    log_filter = LogFilter(
        time_range=TimeRange(NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
        timezone=UTC_ZONE,
    )

    export = await request_log_export(
        Scope.for_organization(org.id), log_filter, include_bodies=False, chunk_rows=3
    )
    chunks = [chunk async for chunk in export.chunks]

    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    exported = [row[0] for chunk in chunks for row in chunk]
    assert sorted(exported) == sorted(str(r.request_id) for r in records)
    assert len(set(exported)) == 10
