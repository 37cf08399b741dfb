"""The examples of docs/readme/audit.md and of the per-organization schedules in
docs/readme/reports.md run as printed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from audit.trail import Actor
from models.member import Role
from models.report import ReportKind
from models.report_schedule import ReportSchedule
from spend.budgets import set_monthly_budget
from tests.factories import gql, make_member, make_org, make_token

DOCS = Path(__file__).resolve().parent.parent / "docs" / "readme"
AUDIT = (DOCS / "audit.md").read_text()
REPORTS = (DOCS / "reports.md").read_text()
AUDIT_URLS = re.findall(r'"http://localhost:8000(/export/audit[^"]+)"', AUDIT)


def _graphql_blocks(text: str) -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", text, re.S)


async def test_the_audit_trail_query_runs_and_shows_a_budget_change(
    client: httpx.AsyncClient, db: object
) -> None:
    [query] = _graphql_blocks(AUDIT)
    org = await make_org(monthly_budget_nanos=100 * 10**9)
    owner = await make_member(org, Role.OWNER)
    await set_monthly_budget(org.id, 150 * 10**9, actor=Actor.operator())

    result = await gql(client, await make_token(owner), query)

    assert result.errors is None, result.errors
    assert result.data is not None
    trail = result.data["organization"]["auditTrail"]
    assert trail["totalCount"] == 1
    assert trail["edges"][0]["node"]["changes"] == [
        {"field": "monthlyBudget", "old": "100.00", "new": "150.00"}
    ]


def test_the_audit_doc_shows_both_export_formats() -> None:
    assert [url.split("?")[0] for url in AUDIT_URLS] == ["/export/audit.csv", "/export/audit.jsonl"]


@pytest.mark.parametrize("url", AUDIT_URLS)
async def test_every_audit_curl_example_answers_200(
    client: httpx.AsyncClient, db: object, url: str
) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)

    response = await client.get(url, headers={"Authorization": f"Bearer {await make_token(admin)}"})

    assert response.status_code == 200, response.text


async def test_the_schedule_examples_set_list_and_remove_a_schedule(
    client: httpx.AsyncClient, db: object
) -> None:
    set_schedule, list_schedules, remove = [
        block for block in _graphql_blocks(REPORTS) if "ReportSchedule" in block
    ]
    org = await make_org(timezone="Europe/Berlin")
    token = await make_token(await make_member(org, Role.ADMIN))

    created = await gql(client, token, set_schedule)
    listed = await gql(client, token, list_schedules)
    assert created.data is not None and listed.data is not None
    schedule_id = created.data["setReportSchedule"]["schedule"]["id"]
    removed = await gql(client, token, remove, id=schedule_id)

    assert created.errors is None and created.data["setReportSchedule"]["webhookSecret"]
    assert listed.data["organization"]["reportSchedules"] == [
        {
            "id": schedule_id,
            "kind": "WEEKLY",
            "hour": 9,
            "weekday": 1,
            "dayOfMonth": None,
            "emails": ["cfo@example.com"],
        }
    ]
    assert removed.data == {"removeReportSchedule": schedule_id}
    assert not await ReportSchedule.filter(organization_id=org.id, kind=ReportKind.WEEKLY).exists()
