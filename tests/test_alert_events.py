"""Organization.alerts and acknowledgeAlert: stored alert events, scoped by role.

Every test starts from the same story: a $1.00 budget, two personal keys with $1.00 limits
(Mia's and Carl's) and $11.00 in the wallet. Mia's key spends $0.80 (her key's 75%, the
budget's 75%), then Carl's spends $0.80 (his key's 75%, the budget's 90% and 100%, and the
wallet falls to $9.40, under the $10 threshold).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from ingestion.writer import write_records
from models.alert import AlertEvent
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from resolvers.periods import billing_period
from spend.control import after_write
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token
from tests.query_counter import count_queries

USD = 1_000_000_000
ALERTS = """
query Alerts($first: Int, $after: String, $kinds: [AlertKind!], $unacknowledgedOnly: Boolean!) {
  organization {
    alerts(first: $first, after: $after, kinds: $kinds, unacknowledgedOnly: $unacknowledgedOnly) {
      totalCount
      edges { node { id kind threshold value apiKey { label } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
ALERT_DETAILS = """
{
  organization {
    alerts(first: 1, kinds: [KEY_LIMIT]) {
      edges { node {
        kind threshold periodKey periodStart periodEnd value message firedAt acknowledgedAt
        apiKey { label } acknowledgedBy { name }
      } }
    }
  }
}
"""
ACKNOWLEDGE = """
mutation Ack($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedAt acknowledgedBy { name } } }
"""


@dataclass
class Story:
    org: Organization
    mia: Member
    admin_token: str
    mia_token: str


@pytest.fixture
async def story(client: httpx.AsyncClient) -> Story:
    org = await make_org(wallet_balance_nanos=11 * USD, monthly_budget_nanos=USD)
    mia = await make_member(org, Role.MEMBER, name="Mia")
    carl = await make_member(org, Role.MEMBER, name="Carl")
    admin = await make_member(org, Role.ADMIN, name="Ada")
    mia_key = await make_key(org, owner=mia, label="mia-laptop", monthly_limit_nanos=USD)
    carl_key = await make_key(org, owner=carl, label="carl-ci", monthly_limit_nanos=USD)
    now = datetime.now(UTC)
    for key, member in ((mia_key, mia), (carl_key, carl)):
        record = make_record(org, key, member, now, provider_cost_nanos=8 * USD // 10)
        await write_records([record], after_write=after_write)
    return Story(org, mia, await make_token(admin), await make_token(mia))


async def alerts(
    client: httpx.AsyncClient, token: str, unacknowledged_only: bool = False, **variables: Any
) -> dict[str, Any]:
    result = await gql(client, token, ALERTS, unacknowledgedOnly=unacknowledged_only, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    connection: dict[str, Any] = result.data["organization"]["alerts"]
    return connection


def summary(connection: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    """(kind, threshold, value, key label) of each alert on the page."""
    return [
        (
            n["kind"],
            n["threshold"],
            n["value"],
            n["apiKey"]["label"] if n["apiKey"] else None,
        )
        for n in (e["node"] for e in connection["edges"])
    ]


async def test_admins_see_every_alert_newest_first(client: httpx.AsyncClient, story: Story) -> None:
    connection = await alerts(client, story.admin_token)

    assert connection["totalCount"] == 6
    assert summary(connection) == [
        ("LOW_BALANCE", "10.00", "9.40", None),
        ("KEY_LIMIT", "75", "0.80", "carl-ci"),
        ("BUDGET", "90", "1.60", None),
        ("BUDGET", "100", "1.60", None),
        ("KEY_LIMIT", "75", "0.80", "mia-laptop"),
        ("BUDGET", "75", "0.80", None),
    ]


async def test_a_member_sees_only_alerts_about_their_own_keys(
    client: httpx.AsyncClient, story: Story
) -> None:
    connection = await alerts(client, story.mia_token)

    assert connection["totalCount"] == 1
    assert summary(connection) == [("KEY_LIMIT", "75", "0.80", "mia-laptop")]


async def test_an_alert_tells_its_period_value_and_message(
    client: httpx.AsyncClient, story: Story
) -> None:
    period = billing_period(datetime.now(UTC), ZoneInfo("UTC"))

    result = await gql(client, story.mia_token, ALERT_DETAILS)

    assert result.errors is None and result.data is not None
    node = result.data["organization"]["alerts"]["edges"][0]["node"]
    fired_at = node.pop("firedAt")
    assert period.start <= datetime.fromisoformat(fired_at) <= datetime.now(UTC)
    assert node == {
        "kind": "KEY_LIMIT",
        "threshold": "75",
        "periodKey": period.start.isoformat(),
        "periodStart": period.start.isoformat(timespec="microseconds"),
        "periodEnd": period.end.isoformat(timespec="microseconds"),
        "value": "0.80",
        "message": "API key 'mia-laptop' reached 75% of its monthly limit: $0.80 of $1.00 spent",
        "acknowledgedAt": None,
        "apiKey": {"label": "mia-laptop"},
        "acknowledgedBy": None,
    }


async def test_alerts_filter_by_kind(client: httpx.AsyncClient, story: Story) -> None:
    budget = await alerts(client, story.admin_token, kinds=["BUDGET"])
    low_or_key = await alerts(client, story.admin_token, kinds=["LOW_BALANCE", "KEY_LIMIT"])
    none = await alerts(client, story.admin_token, kinds=[])

    assert [t for _, t, _, _ in summary(budget)] == ["90", "100", "75"]
    assert [k for k, _, _, _ in summary(low_or_key)] == ["LOW_BALANCE", "KEY_LIMIT", "KEY_LIMIT"]
    assert (none["totalCount"], none["edges"]) == (0, [])


async def test_alerts_page_with_keyset_cursors(client: httpx.AsyncClient, story: Story) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = await alerts(client, story.admin_token, first=4, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    everything = await alerts(client, story.admin_token)
    assert seen == [e["node"]["id"] for e in everything["edges"]]
    assert len(set(seen)) == 6


async def test_acknowledging_an_alert_records_who_and_keeps_the_first_time(
    client: httpx.AsyncClient, story: Story
) -> None:
    first = (await alerts(client, story.admin_token, first=1))["edges"][0]["node"]["id"]

    once = await gql(client, story.admin_token, ACKNOWLEDGE, id=first)
    again = await gql(client, story.admin_token, ACKNOWLEDGE, id=first)

    assert once.errors is None and once.data is not None
    acknowledged = once.data["acknowledgeAlert"]
    assert acknowledged["acknowledgedBy"] == {"name": "Ada"}
    assert again.data == {"acknowledgeAlert": acknowledged}
    remaining = await alerts(client, story.admin_token, unacknowledged_only=True)
    assert remaining["totalCount"] == 5
    assert first not in [e["node"]["id"] for e in remaining["edges"]]


async def test_members_cannot_acknowledge_alerts_even_about_their_own_keys(
    client: httpx.AsyncClient, story: Story
) -> None:
    own = (await alerts(client, story.mia_token))["edges"][0]["node"]["id"]

    result = await gql(client, story.mia_token, ACKNOWLEDGE, id=own)

    assert result.error_codes == ["FORBIDDEN"]
    assert await AlertEvent.filter(acknowledged_at__isnull=False).count() == 0


async def test_another_tenants_alert_is_not_found_exactly_like_a_missing_one(
    client: httpx.AsyncClient, story: Story
) -> None:
    other = await make_org()
    other_token = await make_token(await make_member(other, Role.OWNER))
    theirs = (await alerts(client, story.admin_token, first=1))["edges"][0]["node"]["id"]
    missing = encode_global_id("AlertEvent", 10**9)

    answers = [
        await gql(client, other_token, ACKNOWLEDGE, id=alert_id)
        for alert_id in (theirs, missing, "nonsense")
    ]

    assert {(tuple(a.error_codes), a.errors and a.errors[0]["message"]) for a in answers} == {
        (("NOT_FOUND",), "id: no such alert")
    }
    assert await AlertEvent.filter(acknowledged_at__isnull=False).count() == 0


async def test_listing_alerts_with_their_keys_costs_a_fixed_number_of_statements(
    client: httpx.AsyncClient, story: Story
) -> None:
    await alerts(client, story.admin_token)  # the token's last-used write happens once

    with count_queries() as queries:
        connection = await alerts(client, story.admin_token)

    assert len(connection["edges"]) == 6
    # the token's organization (lookup), token with its organization, the page, its total
    # count, the keys of every alert in one batch
    assert queries.count == 5
