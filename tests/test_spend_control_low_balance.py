"""Low-balance alerts: once per episode, where an episode lasts until a deposit (or a lower
threshold) brings the balance back to or above the threshold ($10 by default)."""

from __future__ import annotations

from datetime import UTC, datetime

from audit.trail import Actor
from ingestion.writer import write_records
from models.alert import AlertEvent, AlertKind
from models.api_key import ApiKey
from models.organization import Organization
from settings import Settings
from spend.control import after_write
from spend.wallet import deposit, refund, set_low_balance_threshold
from tests.factories import make_key, make_org, make_record

USD = 1_000_000_000


async def spend(org: Organization, key: ApiKey, dollars: int) -> None:
    record = make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=dollars * USD)
    await write_records([record], after_write=after_write)


async def low_balance_events(org: Organization) -> list[tuple[str, str, int | None, str]]:
    """(episode, threshold, balance nanos, message) of each LOW_BALANCE event, oldest first."""
    events = await AlertEvent.filter(organization_id=org.id, kind=AlertKind.LOW_BALANCE).order_by(
        "id"
    )
    return [(e.period_key, e.threshold, e.value_nanos, e.message) for e in events]


async def test_falling_under_the_default_ten_dollars_alerts_once_per_episode(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=12 * USD)
    key = await make_key(org)

    await spend(org, key, 1)  # $11: still above
    assert await low_balance_events(org) == []
    await spend(org, key, 2)  # $9: the episode starts
    await spend(org, key, 1)  # $8: same episode, no second alert
    await deposit(org.id, 5 * USD, None, None, actor=Actor.operator())  # $13: the episode ends
    await spend(org, key, 4)  # $9: a new episode

    assert await low_balance_events(org) == [
        (
            "episode-0",
            "10.00",
            9 * USD,
            "Wallet balance $9.00 is below the low-balance threshold of $10.00",
        ),
        (
            "episode-1",
            "10.00",
            9 * USD,
            "Wallet balance $9.00 is below the low-balance threshold of $10.00",
        ),
    ]


async def test_a_deposit_that_leaves_the_balance_low_continues_the_episode(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=11 * USD)
    key = await make_key(org)

    await spend(org, key, 6)  # $5
    await deposit(org.id, 2 * USD, None, None, actor=Actor.operator())  # $7: still under $10
    await spend(org, key, 1)  # $6

    assert [e[:3] for e in await low_balance_events(org)] == [("episode-0", "10.00", 5 * USD)]


async def test_an_organization_starting_with_an_empty_wallet_alerts_on_first_use(
    db: Settings,
) -> None:
    org = await make_org()
    key = await make_key(org)

    await spend(org, key, 1)

    assert [e[:3] for e in await low_balance_events(org)] == [("episode-0", "10.00", -USD)]


async def test_a_refund_that_takes_the_balance_under_the_threshold_alerts(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=15 * USD)

    await refund(org.id, 6 * USD, "unused credit", None, actor=Actor.operator())

    assert [e[:3] for e in await low_balance_events(org)] == [("episode-0", "10.00", 9 * USD)]


async def test_raising_the_threshold_above_the_balance_alerts_at_once(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=30 * USD)

    await set_low_balance_threshold(org.id, 50 * USD, actor=Actor.operator())

    assert [e[:3] for e in await low_balance_events(org)] == [("episode-0", "50.00", 30 * USD)]
    assert (await Organization.get(id=org.id)).low_balance_threshold_nanos == 50 * USD


async def test_lowering_the_threshold_under_the_balance_ends_the_episode(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=12 * USD)
    key = await make_key(org)

    await spend(org, key, 4)  # $8 < $10: episode 0
    await set_low_balance_threshold(org.id, 5 * USD, actor=Actor.operator())  # $8 >= $5: over
    await spend(org, key, 4)  # $4 < $5: episode 1

    assert [e[:3] for e in await low_balance_events(org)] == [
        ("episode-0", "10.00", 8 * USD),
        ("episode-1", "5.00", 4 * USD),
    ]


async def test_spending_that_stays_above_the_threshold_never_alerts(db: Settings) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org)

    for _ in range(5):
        await spend(org, key, 18)  # $10 left: at the threshold is not under it

    assert (await Organization.get(id=org.id)).wallet_balance_nanos == 10 * USD
    assert await low_balance_events(org) == []
