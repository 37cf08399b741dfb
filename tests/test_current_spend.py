"""Organization.currentSpend: this billing period's spend against the monthly budget.

Colors (the seed): GREEN under 75%, YELLOW 75-90%, RED over 90%, decided on exact integers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from models.member import Role
from pricing.money import format_usd
from resolvers.current_spend import BudgetStatus, budget_status, percent_used
from resolvers.periods import billing_period
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

SPEND = """
{ organization { currentSpend {
    billingPeriod { start end timezone }
    spend requests ownSpendOnly budget remaining percentUsed status
} } }
"""
USD = 1_000_000_000


@pytest.mark.parametrize(
    ("spend_nanos", "expected"),
    [
        (0, BudgetStatus.GREEN),
        (7_499 * USD // 100, BudgetStatus.GREEN),  # 74.99%
        (75 * USD - 1, BudgetStatus.GREEN),  # a nano-dollar under 75%
        (75 * USD, BudgetStatus.YELLOW),  # 75%
        (90 * USD, BudgetStatus.YELLOW),  # 90%
        (90 * USD + 1, BudgetStatus.RED),  # a nano-dollar over 90%
        (9_001 * USD // 100, BudgetStatus.RED),  # 90.01%
        (150 * USD, BudgetStatus.RED),
    ],
)
def test_status_thresholds_hold_exactly_on_a_100_dollar_budget(
    spend_nanos: int, expected: BudgetStatus
) -> None:
    assert budget_status(spend_nanos, 100 * USD) is expected


def test_percent_used_is_exact_and_shown_with_two_decimals() -> None:
    assert percent_used(7_499 * USD // 100, 100 * USD) == Decimal("74.99")
    assert percent_used(75 * USD, 100 * USD) == Decimal("75.00")
    assert percent_used(1 * USD, 3 * USD) == Decimal("33.33")
    assert percent_used(0, 100 * USD) == Decimal("0.00")


def test_a_zero_budget_is_red_once_anything_is_spent() -> None:
    assert budget_status(0, 0) is BudgetStatus.GREEN
    assert budget_status(1, 0) is BudgetStatus.RED
    assert percent_used(1, 0) is None


async def _spend(client: httpx.AsyncClient, viewer: Any) -> dict[str, Any]:
    result = await gql(client, await make_token(viewer), SPEND)
    assert result.errors is None, result.errors
    return dict(result.data["organization"]["currentSpend"])


async def _org_spending(cents: int, budget_dollars: int | None) -> tuple[Any, dict[Role, Any]]:
    """An organization whose current period holds one request costing `cents` cents."""
    org = await make_org(
        timezone="America/New_York",
        monthly_budget_nanos=None if budget_dollars is None else budget_dollars * USD,
    )
    people = {role: await make_member(org, role) for role in Role}
    key = await make_key(org, None)
    period = billing_period(datetime.now(UTC), ZoneInfo(org.timezone), org.billing_anchor_day)
    cost = cents * 10_000_000
    record = make_record(
        org,
        key,
        people[Role.ADMIN],
        period.start,
        provider_cost_nanos=cost,
        markup_nanos=0,
        fixed_fee_nanos=0,
        customer_cost_nanos=cost,
    )
    # Outside the period on both sides: never counted.
    before = make_record(org, key, people[Role.ADMIN], period.start - timedelta(seconds=1))
    after = make_record(org, key, people[Role.ADMIN], period.end)
    await store(record, before, after)
    return org, people


@pytest.mark.parametrize(
    ("cents", "percent", "status"),
    [
        (7_499, "74.99", "GREEN"),
        (7_500, "75.00", "YELLOW"),
        (9_000, "90.00", "YELLOW"),
        (9_001, "90.01", "RED"),
    ],
)
async def test_owner_sees_the_color_at_each_boundary_of_a_100_dollar_budget(
    client: httpx.AsyncClient, cents: int, percent: str, status: str
) -> None:
    _, people = await _org_spending(cents, budget_dollars=100)

    spend = await _spend(client, people[Role.OWNER])

    assert spend["spend"] == format_usd(cents * 10_000_000)
    assert spend["budget"] == "100.00"
    assert spend["percentUsed"] == percent
    assert spend["status"] == status
    assert spend["requests"] == 1
    assert spend["ownSpendOnly"] is False


async def test_billing_period_is_the_local_calendar_month(client: httpx.AsyncClient) -> None:
    org, people = await _org_spending(100, budget_dollars=None)
    period = billing_period(datetime.now(UTC), ZoneInfo(org.timezone), org.billing_anchor_day)

    spend = await _spend(client, people[Role.ADMIN])

    local = period.start.astimezone(ZoneInfo("America/New_York"))
    assert (local.day, local.hour, local.minute) == (1, 0, 0)
    assert spend["billingPeriod"]["start"] == local.isoformat(timespec="microseconds")
    end = period.end.astimezone(local.tzinfo)
    assert spend["billingPeriod"]["end"] == end.isoformat(timespec="microseconds")
    assert spend["billingPeriod"]["timezone"] == "America/New_York"


async def test_without_a_budget_percent_and_status_are_null(client: httpx.AsyncClient) -> None:
    _, people = await _org_spending(2_500, budget_dollars=None)

    spend = await _spend(client, people[Role.OWNER])

    assert spend["spend"] == "25.00"
    assert spend["budget"] is None
    assert spend["remaining"] is None
    assert spend["percentUsed"] is None
    assert spend["status"] is None


async def test_admin_sees_the_organizations_spend_and_remaining_budget(
    client: httpx.AsyncClient,
) -> None:
    _, people = await _org_spending(12_000, budget_dollars=100)

    spend = await _spend(client, people[Role.ADMIN])

    assert spend["spend"] == "120.00"
    assert spend["remaining"] == "-20.00"
    assert spend["percentUsed"] == "120.00"
    assert spend["status"] == "RED"


async def test_member_sees_only_their_own_spend_without_budget(
    client: httpx.AsyncClient,
) -> None:
    org, people = await _org_spending(9_500, budget_dollars=100)
    member = people[Role.MEMBER]
    key = await make_key(org, member)
    period = billing_period(datetime.now(UTC), ZoneInfo(org.timezone), org.billing_anchor_day)
    cost = 123_000_000
    await store(
        make_record(
            org,
            key,
            member,
            period.start + timedelta(minutes=3),
            provider_cost_nanos=cost,
            markup_nanos=0,
            fixed_fee_nanos=0,
            customer_cost_nanos=cost,
        )
    )

    spend = await _spend(client, member)

    assert spend["spend"] == "0.123"
    assert spend["requests"] == 1
    assert spend["ownSpendOnly"] is True
    assert spend["budget"] is None
    assert spend["remaining"] is None
    assert spend["percentUsed"] is None
    assert spend["status"] is None
