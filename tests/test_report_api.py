"""Organization.reports, node(id) and GET /reports/{id}.html|.csv: Admins and Owners only."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.applications import Starlette

from graph.rate_limiter import RateLimiter, RateLimits
from models.access_token import Scope as TokenScope
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.report import ReportKind
from reports.periods import report_period
from reports.store import store_report
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from tests.rate_clock import LibraryClock, library_clock
from web.report_endpoint import report_download_charge

# Named here so pytest finds the imported fixture (and linters see it used).
__all__ = ["library_clock"]

BERLIN = ZoneInfo("Europe/Berlin")

REPORTS = """
query Reports($first: Int, $after: String, $kinds: [ReportKind!]) {
  organization {
    reports(first: $first, after: $after, kinds: $kinds) {
      totalCount
      edges { node { id kind periodStart periodEnd timezone htmlUrl csvUrl } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Report { kind periodStart } } }"


@pytest.fixture
async def stored(db: object) -> tuple[Organization, list[int]]:
    """Three reports of one Berlin organization: two daily, one weekly."""
    org = await make_org(timezone="Europe/Berlin")
    ids = []
    for kind, day in (
        (ReportKind.DAILY, date(2024, 5, 11)),
        (ReportKind.DAILY, date(2024, 5, 12)),
        (ReportKind.WEEKLY, date(2024, 5, 6)),
    ):
        period = report_period(kind, day, BERLIN)
        csv = f"section,item\r\ntotal,{kind.value} {day}\r\n"
        report_id = await store_report(
            org.id, kind, period, "Europe/Berlin", f"<p>{kind.value} {day}</p>", csv
        )
        assert report_id is not None
        ids.append(report_id)
    return org, ids


async def _person(org: Organization, role: Role) -> Member:
    return await make_member(org, role)


async def test_admins_list_reports_newest_period_first(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, ids = stored
    token = await make_token(await _person(org, Role.ADMIN))

    result = await gql(client, token, REPORTS)

    reports = result.data["organization"]["reports"]  # type: ignore[index]
    assert reports["totalCount"] == 3
    nodes = [edge["node"] for edge in reports["edges"]]
    assert [(n["kind"], n["periodStart"]) for n in nodes] == [
        ("DAILY", "2024-05-12T00:00:00.000000+02:00"),
        ("DAILY", "2024-05-11T00:00:00.000000+02:00"),
        ("WEEKLY", "2024-05-06T00:00:00.000000+02:00"),
    ]
    report_id = encode_global_id("Report", ids[1])
    assert nodes[0]["id"] == report_id
    assert nodes[0]["htmlUrl"] == f"/reports/{report_id}.html"
    assert nodes[0]["csvUrl"] == f"/reports/{report_id}.csv"
    assert nodes[2]["periodEnd"] == "2024-05-13T00:00:00.000000+02:00"


async def test_reports_page_with_cursors_and_filter_by_kind(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, _ = stored
    token = await make_token(await _person(org, Role.OWNER))

    first = await gql(client, token, REPORTS, first=2)
    page = first.data["organization"]["reports"]  # type: ignore[index]
    second = await gql(client, token, REPORTS, first=2, after=page["pageInfo"]["endCursor"])
    weekly = await gql(client, token, REPORTS, kinds=["WEEKLY"])

    rest = second.data["organization"]["reports"]  # type: ignore[index]
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["kind"] for e in rest["edges"]] == ["WEEKLY"]
    assert rest["pageInfo"]["hasNextPage"] is False
    only = weekly.data["organization"]["reports"]  # type: ignore[index]
    assert (only["totalCount"], len(only["edges"])) == (1, 1)


async def test_a_member_cannot_list_reports(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, _ = stored
    token = await make_token(await _person(org, Role.MEMBER))

    result = await gql(client, token, REPORTS)

    assert result.error_codes == ["FORBIDDEN"]


async def test_node_finds_a_report_for_admins_only_and_never_across_tenants(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, ids = stored
    report_id = encode_global_id("Report", ids[2])
    admin = await make_token(await _person(org, Role.ADMIN))
    member = await make_token(await _person(org, Role.MEMBER))
    stranger = await make_token(await _person(await make_org(), Role.OWNER))

    found = await gql(client, admin, NODE, id=report_id)
    hidden = await gql(client, member, NODE, id=report_id)
    foreign = await gql(client, stranger, NODE, id=report_id)

    assert found.data == {
        "node": {
            "id": report_id,
            "kind": "WEEKLY",
            "periodStart": "2024-05-06T00:00:00.000000+02:00",
        }
    }
    assert hidden.data == {"node": None}
    assert foreign.data == {"node": None}


async def _download(
    client: httpx.AsyncClient, token: str | None, report_id: str, suffix: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(f"/reports/{report_id}.{suffix}", headers=headers)


async def test_the_html_report_downloads_with_a_strict_content_security_policy(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, ids = stored
    token = await make_token(await _person(org, Role.ADMIN), [TokenScope.READ])

    response = await _download(client, token, encode_global_id("Report", ids[2]), "html")

    assert response.status_code == 200
    assert response.text == "<p>WEEKLY 2024-05-06</p>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    assert response.headers["content-disposition"] == (
        'inline; filename="weekly-report_20240505T220000Z.html"'
    )


async def test_the_csv_report_downloads_as_an_attachment(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, ids = stored
    token = await make_token(await _person(org, Role.OWNER))

    response = await _download(client, token, encode_global_id("Report", ids[0]), "csv")

    assert response.status_code == 200
    assert response.content == b"section,item\r\ntotal,DAILY 2024-05-11\r\n"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_downloads_refuse_members_strangers_and_anonymous_callers(
    client: httpx.AsyncClient, stored: tuple[Organization, list[int]]
) -> None:
    org, ids = stored
    report_id = encode_global_id("Report", ids[0])
    member = await make_token(await _person(org, Role.MEMBER))
    stranger = await make_token(await _person(await make_org(), Role.OWNER))
    admin = await make_token(await _person(org, Role.ADMIN))

    assert (await _download(client, member, report_id, "html")).status_code == 403
    assert (await _download(client, None, report_id, "html")).status_code == 401
    assert (await _download(client, stranger, report_id, "html")).status_code == 404
    assert (await _download(client, admin, "not-an-id", "html")).status_code == 404
    huge = encode_global_id("Report", 10**15)
    assert (await _download(client, admin, huge, "csv")).status_code == 404
    bad_format = await _download(client, admin, report_id, "pdf")
    assert bad_format.status_code == 400
    assert bad_format.json()["error"]["message"] == "format: expected .html or .csv"


async def test_a_download_pays_one_point_per_started_kib_and_is_refused_when_spent(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org(timezone="Europe/Berlin")
    period = report_period(ReportKind.DAILY, date(2024, 5, 11), BERLIN)
    html = "<p>" + "x" * 5000 + "</p>"  # 5,007 bytes: 5 KiB started
    report_id = await store_report(org.id, ReportKind.DAILY, period, "Europe/Berlin", html, "a\r\n")
    assert report_id is not None
    token = await make_token(await _person(org, Role.ADMIN), [TokenScope.READ])
    # The gate lets a request in only while the token holds a whole query's worth (10,000).
    app.state.rate_limiter = RateLimiter(RateLimits(10_006, 1_000_000, 1_000_000, 100))

    page = await _download(client, token, encode_global_id("Report", report_id), "html")
    small = await _download(client, token, encode_global_id("Report", report_id), "csv")

    assert page.status_code == 200
    assert page.text == html
    assert page.headers["x-ratelimit-remaining"] == "10001"  # 10,006 - 5
    assert small.status_code == 200
    assert small.headers["x-ratelimit-remaining"] == "10000"  # 3 bytes: at least 1 point
    # A missing report costs 1 point like any refusal; then the budget is under 10,000.
    missing = await _download(client, token, encode_global_id("Report", 10**9), "csv")
    assert missing.status_code == 404
    assert missing.headers["x-ratelimit-remaining"] == "9999"
    refused = await _download(client, token, encode_global_id("Report", report_id), "csv")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused.headers["retry-after"].isdigit()


def test_report_download_charge_counts_started_kib() -> None:
    assert [report_download_charge(n) for n in (0, 1, 1024, 1025, 10 * 1024)] == [1, 1, 1, 2, 10]
