"""Billing periods by tier: FREE is the calendar month, TEAM/BUSINESS run from the anchor day
(29-31 clamped to short months), ENTERPRISE follows its contract; always between local
midnights of the organization's timezone. Spend is counted into the period it falls in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from ingestion.writer import write_records
from models.member import Role
from models.organization import Organization, Tier
from models.spend import SpendCounter
from resolvers.billing_policy import BillingPeriodKind, BillingPolicy, billing_policy, policy_for
from resolvers.key_access import check_key_access
from resolvers.periods import TimeRange
from spend.control import after_write
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token

USD = 1_000_000_000
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


def local(tz: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=tz)  # type: ignore[misc]


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def policy(
    tier: Tier, tz: ZoneInfo, anchor: int = 1, start: date | None = None, months: int | None = None
) -> BillingPolicy:
    return policy_for(tier, tz, anchor, start, months)


# --- which rule each tier follows ---------------------------------------------------------


def test_a_free_organization_bills_by_calendar_month_whatever_its_anchor_day() -> None:
    free = policy(Tier.FREE, KOLKATA, anchor=15)
    assert free.kind is BillingPeriodKind.CALENDAR_MONTH
    assert free.period(utc(2026, 3, 20)) == TimeRange(
        local(KOLKATA, 2026, 3, 1), local(KOLKATA, 2026, 4, 1)
    )


def test_a_free_period_starts_at_kolkata_midnight_which_is_1830_utc_the_day_before() -> None:
    free = policy(Tier.FREE, KOLKATA)
    period = free.period(utc(2026, 2, 28, 18, 30))
    assert period.start == utc(2026, 2, 28, 18, 30)
    assert period.end == utc(2026, 3, 31, 18, 30)
    # One microsecond earlier is still February in Kolkata.
    assert free.period(utc(2026, 2, 28, 18, 29, 59, 999999)).end == utc(2026, 2, 28, 18, 30)


@pytest.mark.parametrize("tier", [Tier.TEAM, Tier.BUSINESS])
def test_team_and_business_run_from_the_anchor_day(tier: Tier) -> None:
    anchored = policy(tier, KATHMANDU, anchor=10)
    assert anchored.kind is BillingPeriodKind.ANCHOR_DAY
    # Local midnight of the 10th in Kathmandu (+05:45) is 18:15 UTC on the 9th.
    assert anchored.period(utc(2026, 5, 9, 18, 15)) == TimeRange(
        utc(2026, 5, 9, 18, 15), utc(2026, 6, 9, 18, 15)
    )
    assert anchored.period(utc(2026, 5, 9, 18, 14, 59)).start == utc(2026, 4, 9, 18, 15)


def test_anchor_day_31_starts_on_the_last_day_of_shorter_months() -> None:
    anchored = policy(Tier.TEAM, UTC_ZONE, anchor=31)
    assert anchored.period(utc(2026, 3, 15)) == TimeRange(utc(2026, 2, 28), utc(2026, 3, 31))
    assert anchored.period(utc(2026, 4, 30)) == TimeRange(utc(2026, 4, 30), utc(2026, 5, 31))
    assert anchored.period(utc(2026, 4, 29, 23, 59)) == TimeRange(
        utc(2026, 3, 31), utc(2026, 4, 30)
    )


def test_anchor_day_29_is_february_29_in_a_leap_year_and_28_otherwise() -> None:
    anchored = policy(Tier.BUSINESS, BERLIN, anchor=29)
    assert anchored.period(utc(2028, 3, 5)).start == local(BERLIN, 2028, 2, 29)
    assert anchored.period(utc(2027, 3, 5)).start == local(BERLIN, 2027, 2, 28)
    assert anchored.period(utc(2027, 3, 5)).end == local(BERLIN, 2027, 3, 29)


def test_an_anchor_period_across_a_dst_change_is_shorter_by_exactly_the_lost_hour() -> None:
    # New York springs forward on 2026-03-08: the period from Feb 20 to Mar 20 lasts 28 days
    # less one hour in UTC.
    anchored = policy(Tier.TEAM, NEW_YORK, anchor=20)
    period = anchored.period(utc(2026, 3, 10))
    assert period == TimeRange(utc(2026, 2, 20, 5), utc(2026, 3, 20, 4))
    assert period.duration == timedelta(days=28) - timedelta(hours=1)


def test_an_enterprise_quarterly_contract_runs_three_months_from_its_start() -> None:
    contract = policy(Tier.ENTERPRISE, NEW_YORK, anchor=1, start=date(2026, 1, 31), months=3)
    assert contract.kind is BillingPeriodKind.CONTRACT
    assert contract.period(utc(2026, 3, 1)) == TimeRange(
        local(NEW_YORK, 2026, 1, 31), local(NEW_YORK, 2026, 4, 30)
    )
    # The next quarter starts on the 30th (April has no 31st) and ends on July 31.
    assert contract.period(utc(2026, 5, 15)) == TimeRange(
        local(NEW_YORK, 2026, 4, 30), local(NEW_YORK, 2026, 7, 31)
    )
    # Periods before the contract start follow the same grid backwards.
    assert contract.period(utc(2026, 1, 1)) == TimeRange(
        local(NEW_YORK, 2025, 10, 31), local(NEW_YORK, 2026, 1, 31)
    )


def test_an_enterprise_annual_contract_is_one_period_a_year() -> None:
    contract = policy(Tier.ENTERPRISE, KATHMANDU, start=date(2026, 7, 1), months=12)
    period = contract.period(utc(2027, 2, 1))
    assert period == TimeRange(local(KATHMANDU, 2026, 7, 1), local(KATHMANDU, 2027, 7, 1))
    assert contract.previous(period) == TimeRange(
        local(KATHMANDU, 2025, 7, 1), local(KATHMANDU, 2026, 7, 1)
    )


def test_an_enterprise_organization_without_a_contract_runs_from_its_anchor_day() -> None:
    enterprise = policy(Tier.ENTERPRISE, UTC_ZONE, anchor=5)
    assert enterprise.kind is BillingPeriodKind.ANCHOR_DAY
    assert enterprise.period(utc(2026, 6, 4)) == TimeRange(utc(2026, 5, 5), utc(2026, 6, 5))


def test_a_contract_on_another_tier_is_ignored() -> None:
    team = policy(Tier.TEAM, UTC_ZONE, anchor=1, start=date(2026, 1, 15), months=3)
    assert team.kind is BillingPeriodKind.ANCHOR_DAY
    assert team.period(utc(2026, 2, 20)) == TimeRange(utc(2026, 2, 1), utc(2026, 3, 1))


# --- spend lands in the period of the organization's policy --------------------------------


async def spend_at(org: Organization, at: datetime, provider_nanos: int) -> int:
    """Ingest one request at `at`; returns its key's id."""
    key = await make_key(org)
    record = make_record(org, key, None, at, provider_cost_nanos=provider_nanos)
    await write_records([record], after_write=after_write)
    return key.id


async def counters(org: Organization) -> dict[tuple[int, datetime], int]:
    rows = await SpendCounter.filter(organization_id=org.id)
    return {(r.api_key_id, r.period_start.astimezone(UTC)): r.spend_nanos for r in rows}


async def test_requests_either_side_of_a_kolkata_month_start_count_in_different_periods(
    db: object,
) -> None:
    org = await make_org(tier=Tier.FREE, timezone="Asia/Kolkata", billing_anchor_day=20)
    before = await spend_at(org, utc(2026, 3, 31, 18, 29, 59), 1 * USD)
    after = await spend_at(org, utc(2026, 3, 31, 18, 30), 2 * USD)

    march, april = utc(2026, 2, 28, 18, 30), utc(2026, 3, 31, 18, 30)
    assert await counters(org) == {
        (0, march): 1 * USD,
        (before, march): 1 * USD,
        (0, april): 2 * USD,
        (after, april): 2 * USD,
    }


async def test_a_quarterly_contract_counts_three_months_of_spend_in_one_period(
    db: object,
) -> None:
    org = await make_org(
        tier=Tier.ENTERPRISE,
        timezone="Asia/Kathmandu",
        contract_period_start=date(2026, 1, 1),
        contract_period_months=3,
    )
    quarter = local(KATHMANDU, 2026, 1, 1)
    for month in (1, 2, 3):
        await spend_at(org, local(KATHMANDU, 2026, month, 15), 1 * USD)
    await spend_at(org, local(KATHMANDU, 2026, 4, 1), 5 * USD)

    found = await counters(org)
    assert found[(0, quarter.astimezone(UTC))] == 3 * USD
    assert found[(0, local(KATHMANDU, 2026, 4, 1).astimezone(UTC))] == 5 * USD


async def test_key_access_judges_a_limit_on_the_contract_period(db: object) -> None:
    org = await make_org(
        tier=Tier.ENTERPRISE,
        timezone="UTC",
        wallet_balance_nanos=100 * USD,
        contract_period_start=date(2026, 1, 1),
        contract_period_months=3,
    )
    key = await make_key(org, monthly_limit_nanos=2 * USD)
    for day in (date(2026, 1, 10), date(2026, 2, 10)):
        record = make_record(
            org, key, None, utc(day.year, day.month, day.day), provider_cost_nanos=1 * USD
        )
        await write_records([record], after_write=after_write)

    decision = await check_key_access(
        org.id, api_key_id=key.id, prefix=None, model="gpt-4", now=utc(2026, 3, 31, 23)
    )
    assert decision.spend_nanos == 2 * USD
    assert decision.period == TimeRange(utc(2026, 1, 1), utc(2026, 4, 1))
    assert decision.allowed is False
    later = await check_key_access(
        org.id, api_key_id=key.id, prefix=None, model="gpt-4", now=utc(2026, 4, 1)
    )
    assert (later.allowed, later.spend_nanos) == (True, 0)


CURRENT_SPEND = """
{ viewer { organization {
  billingPeriodPolicy { kind months anchorDay contractStart timezone }
  currentSpend { spend billingPeriod { start end timezone policy { kind months } } }
} } }
"""


async def test_current_spend_shows_the_contract_period_and_its_policy(
    client: httpx.AsyncClient,
) -> None:
    today = datetime.now(UTC).date()
    org = await make_org(
        tier=Tier.ENTERPRISE,
        timezone="Asia/Kolkata",
        contract_period_start=date(today.year, 1, 1),
        contract_period_months=12,
    )
    token = await make_token(await make_member(org, Role.ADMIN))
    key = await make_key(org)
    await write_records(
        [make_record(org, key, None, local(KOLKATA, today.year, 1, 1), provider_cost_nanos=USD)]
    )

    result = await gql(client, token, CURRENT_SPEND)

    assert result.errors is None
    organization = result.data["viewer"]["organization"]  # type: ignore[index]
    assert organization["billingPeriodPolicy"] == {
        "kind": "CONTRACT",
        "months": 12,
        "anchorDay": 1,
        "contractStart": f"{today.year}-01-01",
        "timezone": "Asia/Kolkata",
    }
    assert organization["currentSpend"] == {
        "spend": "1.00",
        "billingPeriod": {
            "start": f"{today.year}-01-01T00:00:00.000000+05:30",
            "end": f"{today.year + 1}-01-01T00:00:00.000000+05:30",
            "timezone": "Asia/Kolkata",
            "policy": {"kind": "CONTRACT", "months": 12},
        },
    }


async def test_billing_policy_of_a_stored_organization_reads_its_tier(db: object) -> None:
    org = await make_org(tier=Tier.FREE, timezone="Asia/Kathmandu", billing_anchor_day=31)
    stored = await Organization.get(id=org.id)
    assert billing_policy(stored).kind is BillingPeriodKind.CALENDAR_MONTH
    assert billing_policy(stored).anchor_day == 1
