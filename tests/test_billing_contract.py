"""An Enterprise contract period, set by the operator: stored, audited, and the current
period's spend counters recounted so key limits and the budget count the new period exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from admin.billing_contract import set_billing_contract
from audit.trail import Actor
from ingestion.writer import write_records
from models.audit import AuditEntry
from models.organization import Tier
from models.spend import SpendCounter
from resolvers.billing_policy import BillingPeriodKind, billing_policy
from resolvers.errors import BadInputError
from resolvers.key_access import check_key_access
from spend.control import after_write
from tests.factories import make_key, make_org, make_record
from tests.test_cli import run

USD = 1_000_000_000


async def test_a_contract_recounts_the_current_period_from_the_request_logs(db: object) -> None:
    now = datetime.now(UTC)
    org = await make_org(tier=Tier.ENTERPRISE, timezone="UTC", wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=10 * USD)
    for at, cost in ((now - timedelta(days=40), 3 * USD), (now - timedelta(minutes=1), 4 * USD)):
        await write_records(
            [make_record(org, key, None, at, provider_cost_nanos=cost)], after_write=after_write
        )
    start = (now - timedelta(days=60)).date()

    updated = await set_billing_contract(Actor.operator(), org.id, start, 3)

    policy = billing_policy(updated)
    period = policy.period(now)
    assert (policy.kind, period.start) == (
        BillingPeriodKind.CONTRACT,
        datetime(start.year, start.month, start.day, tzinfo=UTC),
    )
    counters = await SpendCounter.filter(organization_id=org.id, period_start=period.start)
    assert sorted((c.api_key_id, c.spend_nanos, c.requests) for c in counters) == [
        (0, 7 * USD, 2),
        (key.id, 7 * USD, 2),
    ]
    decision = await check_key_access(org.id, api_key_id=key.id, prefix=None, model="gpt-4")
    assert (decision.spend_nanos, decision.allowed) == (7 * USD, True)
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.via, entry.actor_member_id) == (
        "organization.settings",
        "cli",
        None,
    )
    assert entry.changes == {
        "contractPeriodStart": {"old": None, "new": start.isoformat()},
        "contractPeriodMonths": {"old": None, "new": 3},
    }


async def test_a_contract_is_for_enterprise_organizations_only(db: object) -> None:
    org = await make_org(tier=Tier.TEAM, slug="small-team")
    with pytest.raises(BadInputError, match="ENTERPRISE organizations; small-team is TEAM"):
        await set_billing_contract(Actor.operator(), org.id, datetime(2026, 1, 1).date(), 3)


@pytest.mark.parametrize("months", [0, 13])
async def test_a_contract_period_is_1_to_12_months(db: object, months: int) -> None:
    org = await make_org(tier=Tier.ENTERPRISE)
    with pytest.raises(BadInputError, match=f"months: 1 to 12, got {months}"):
        await set_billing_contract(Actor.operator(), org.id, datetime(2026, 1, 1).date(), months)


def test_the_operator_sets_and_clears_a_contract_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    created = run(
        tmp_path, "create-org", "Big Co", "--tier", "ENTERPRISE", "--timezone", "Asia/Kathmandu"
    )
    assert created.returncode == 0, created.stderr

    contract = run(
        tmp_path, "billing-contract", "--org", "big-co", "--start", "2020-07-01", "--months", "12"
    )
    assert contract.returncode == 0, contract.stderr
    assert contract.stdout.startswith("big-co: CONTRACT, 12 month(s); current period ")
    assert "-07-01T00:00:00+05:45 to " in contract.stdout
    assert contract.stdout.endswith("(Asia/Kathmandu)\n")

    cleared = run(tmp_path, "billing-contract", "--org", "big-co", "--clear")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.startswith("big-co: ANCHOR_DAY, 1 month(s); current period ")

    bad = run(tmp_path, "billing-contract", "--org", "big-co", "--start", "2020-07-01")
    assert bad.returncode == 1
    assert bad.stderr == "aize-analytics: error: give --start and --months, or --clear\n"
