"""Two service instances on one database behave as one: one leads the background work; when
it is killed mid-run the other takes over, every alert is delivered once and maintenance
goes on. Real processes (uvicorn), a real webhook receiver, PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from tortoise import connections

from alerts.webhook import EVENT_ID_HEADER
from bench.service import service_process
from coordination.lease import LeaseState, read_lease
from ingestion.writer import write_records
from maintenance.policy import MONTHS_AHEAD
from models.alert import AlertEvent, AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryStatus
from models.api_key import ApiKey
from models.organization import Organization
from models.request_log_partitions import add_months, month_start
from settings import Settings
from spend.control import after_write
from tests.alert_receivers import WebhookReceiver, receiver_fixture
from tests.factories import make_key, make_org, make_record
from tests.polling import until

pytestmark = pytest.mark.postgres_only
# Named here so pytest finds the imported fixture (and linters see it used).
__all__ = ["receiver_fixture"]

USD = 1_000_000_000
INSTANCE_SETTINGS = {
    "AIZE_LEADER_LEASE_SECONDS": "1.5",
    "AIZE_ALERT_WORKER": "true",
    "AIZE_ALERT_POLL_SECONDS": "0.2",
    "AIZE_MAINTENANCE_INTERVAL_SECONDS": "0.5",
    "AIZE_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
}


async def spend(org: Organization, key: ApiKey, cents: int) -> None:
    record = make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=cents * USD // 100)
    await write_records([record], after_write=after_write)


def holder_pid(lease: LeaseState) -> int:
    return int(lease.holder.split(":")[1])


async def partition_exists(name: str) -> bool:
    rows = await connections.get("default").execute_query_dict(
        "SELECT to_regclass($1) IS NOT NULL AS present", [name]
    )
    return bool(rows[0]["present"])


async def test_the_survivor_takes_over_alerts_and_maintenance_when_the_leader_is_killed(
    db: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await AlertRule.create(
        organization=org, kind=AlertKind.BUDGET, webhook_url=receiver.url, webhook_secret="s" * 24
    )
    async with AsyncExitStack() as services:
        processes = [
            await services.enter_async_context(
                service_process(db.database_url, 1, INSTANCE_SETTINGS)
            )
            for _ in range(2)
        ]
        first = await until("a leader", lambda: read_lease("background"))
        leader, follower = sorted(
            (p for p, _ in processes), key=lambda p: p.pid != holder_pid(first)
        )
        assert leader.pid == holder_pid(first)

        await spend(org, key, 80)  # 75% of the budget: one alert
        await until("the first alert", _received(receiver, 1))
        # The receiver has it; kill the leader only once it has also recorded the delivery (a
        # leader killed between the two would leave it PENDING, to be sent again after the
        # backoff with the same event id: at least once, which is not what this test is about).
        await until("the first delivery to be recorded", _delivered(org, 1))
        leader.kill()  # SIGKILL: no clean shutdown, the lease stays until it expires
        await leader.wait()
        await spend(org, key, 15)  # 95%: the 90% alert, while nobody leads yet
        await until("the second alert", _received(receiver, 2))

        second = await read_lease("background")
        assert second is not None
        assert holder_pid(second) == follower.pid
        assert second.term == first.term + 1
        # Maintenance goes on under the new leader: a partition ahead, dropped, comes back.
        ahead = add_months(month_start(datetime.now(UTC)), MONTHS_AHEAD)
        name = f"request_log_p{ahead:%Y_%m}"
        assert await partition_exists(name)
        await connections.get("default").execute_script(f"DROP TABLE {name}")
        await until("maintenance to recreate the partition", lambda: partition_exists(name))

    events = await AlertEvent.filter(organization_id=org.id).order_by("id")
    assert [e.threshold for e in events] == ["75", "90"]
    deliveries = await AlertDelivery.filter(organization_id=org.id).order_by("id")
    assert [(d.event_id, d.status, d.attempts) for d in deliveries] == [
        (events[0].id, DeliveryStatus.DELIVERED, 1),
        (events[1].id, DeliveryStatus.DELIVERED, 1),
    ]
    # Each alert reached the receiver exactly once.
    assert len(receiver.requests) == 2
    assert sorted(r.headers[EVENT_ID_HEADER.lower()] for r in receiver.requests) == sorted(
        {r.headers[EVENT_ID_HEADER.lower()] for r in receiver.requests}
    )


def _delivered(org: Organization, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        delivered = AlertDelivery.filter(organization_id=org.id, status=DeliveryStatus.DELIVERED)
        return await delivered.count() >= count

    return check


def _received(receiver: WebhookReceiver, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(receiver.requests) >= count

    return check
