"""Usage rules checked by the alert worker: DAILY_SPEND, UNUSUAL_ACTIVITY and ERROR_RATE, each
firing exactly once per day or episode on crafted request logs, and delivered (signed) to a
real local webhook receiver. The clock is fixed: Wednesday 2024-05-08 14:30 UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.worker import run_once
from models.alert import AlertEvent, AlertKind, AlertRule
from models.api_key import ApiKey
from models.organization import Organization
from settings import Settings
from tests.alert_receivers import (  # noqa: F401 - fixtures
    SmtpReceiver,
    WebhookReceiver,
    receiver_fixture,
    settings_fixture,
    smtp_fixture,
)
from tests.factories import make_key, make_org, make_record, store

USD = 1_000_000_000
CENT = USD // 100
NOW = datetime(2024, 5, 8, 14, 30, tzinfo=UTC)
SECRET = "whsec_rules_0123456789abcdef"


async def old_org(**fields: Any) -> Organization:
    """An organization (and its history) that exists since 2020."""
    org = await make_org(**fields)
    await Organization.filter(id=org.id).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    return await Organization.get(id=org.id)


async def traffic(
    org: Organization,
    key: ApiKey,
    start: datetime,
    count: int,
    *,
    cents: int = 10,
    errors: int = 0,
) -> None:
    """`count` requests from `start`, one a second, `cents` each; the first `errors` 500."""
    await store(
        *(
            make_record(
                org,
                key,
                None,
                start + timedelta(seconds=i),
                provider_cost_nanos=cents * CENT,
                status_code=500 if i < errors else 200,
            )
            for i in range(count)
        )
    )


async def rule(org: Organization, kind: AlertKind, url: str, **fields: Any) -> AlertRule:
    return await AlertRule.create(
        organization=org, kind=kind, webhook_url=url, webhook_secret=SECRET, **fields
    )


async def events(org: Organization, kind: AlertKind) -> list[tuple[str, str, int | None]]:
    """(period key, threshold, value nanos) of each event of the kind, oldest first."""
    found = await AlertEvent.filter(organization_id=org.id, kind=kind).order_by("id")
    return [(e.period_key, e.threshold, e.value_nanos) for e in found]


# DAILY_SPEND


async def test_daily_spend_fires_once_per_local_day(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org(timezone="America/New_York")  # 14:30 UTC is 10:30 on May 8 there
    key = await make_key(org)
    daily = await rule(org, AlertKind.DAILY_SPEND, receiver.url, threshold_nanos=USD)
    await traffic(org, key, datetime(2024, 5, 8, 3, 30, tzinfo=UTC), 6)  # 23:30 on May 7
    await traffic(org, key, datetime(2024, 5, 8, 5, 0, tzinfo=UTC), 6)  # $0.60 on May 8

    await run_once(settings, NOW)
    assert await events(org, AlertKind.DAILY_SPEND) == []
    await traffic(org, key, datetime(2024, 5, 8, 14, 35, tzinfo=UTC), 5)  # $1.10 on May 8
    await run_once(settings, NOW + timedelta(minutes=10))
    await traffic(org, key, datetime(2024, 5, 8, 15, 0, tzinfo=UTC), 5)  # $1.60, same day
    await run_once(settings, NOW + timedelta(hours=1))
    await traffic(org, key, datetime(2024, 5, 9, 13, 0, tzinfo=UTC), 12)  # $1.20 on May 9
    await run_once(settings, NOW + timedelta(days=1))

    assert await events(org, AlertKind.DAILY_SPEND) == [
        (f"rule-{daily.id}/2024-05-08", "1.00", 110 * CENT),
        (f"rule-{daily.id}/2024-05-09", "1.00", 120 * CENT),
    ]
    event = await AlertEvent.filter(organization_id=org.id).order_by("id").first()
    assert event is not None and event.rule_id == daily.id
    assert event.message == (
        "The organization spent $1.10 on 2024-05-08 (America/New_York), reaching the daily "
        "threshold of $1.00."
    )
    assert [json.loads(r.body)["periodKey"] for r in receiver.requests] == [
        f"rule-{daily.id}/2024-05-08",
        f"rule-{daily.id}/2024-05-09",
    ]
    assert all(r.signature_is_valid(SECRET) for r in receiver.requests)


async def test_spend_in_the_last_minutes_of_a_day_is_caught_after_midnight(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    daily = await rule(org, AlertKind.DAILY_SPEND, receiver.url, threshold_nanos=USD)
    await AlertRule.filter(id=daily.id).update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    await run_once(settings, datetime(2024, 5, 8, 23, 58, tzinfo=UTC))
    await traffic(org, key, datetime(2024, 5, 8, 23, 59, tzinfo=UTC), 11)  # $1.10 by 23:59:10

    await run_once(settings, datetime(2024, 5, 9, 0, 0, 30, tzinfo=UTC))

    assert await events(org, AlertKind.DAILY_SPEND) == [
        (f"rule-{daily.id}/2024-05-08", "1.00", 110 * CENT)
    ]


async def test_a_daily_spend_rule_on_a_key_counts_only_that_key(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    watched = await make_key(org, label="batch-jobs")
    other = await make_key(org)
    await rule(org, AlertKind.DAILY_SPEND, receiver.url, threshold_nanos=USD, api_key=watched)
    await traffic(org, other, datetime(2024, 5, 8, 9, 0, tzinfo=UTC), 20)  # $2.00, other key
    await traffic(org, watched, datetime(2024, 5, 8, 10, 0, tzinfo=UTC), 9)  # $0.90

    await run_once(settings, NOW)
    assert await events(org, AlertKind.DAILY_SPEND) == []
    await traffic(org, watched, datetime(2024, 5, 8, 14, 31, tzinfo=UTC), 1)  # $1.00
    await run_once(settings, NOW + timedelta(minutes=5))

    [event] = await AlertEvent.filter(organization_id=org.id)
    assert (event.api_key_id_subject, event.value_nanos) == (watched.id, USD)
    assert event.message.startswith("API key 'batch-jobs' spent $1.00 on 2024-05-08 (UTC)")
    [request] = receiver.requests
    assert json.loads(request.body)["apiKey"]["label"] == "batch-jobs"


async def test_disabled_rules_are_not_checked(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    await rule(org, AlertKind.DAILY_SPEND, receiver.url, threshold_nanos=USD, enabled=False)
    await traffic(org, key, datetime(2024, 5, 8, 9, 0, tzinfo=UTC), 20)

    report = await run_once(settings, NOW)

    assert (report.rules.checked, report.rules.fired) == (0, 0)
    assert receiver.requests == []


# UNUSUAL_ACTIVITY: the last 60 minutes against the same hour of the past four weeks.


async def usual_wednesdays(org: Organization, key: ApiKey, per_week: list[int]) -> None:
    """Requests in 13:30-14:30 UTC on the four Wednesdays before May 8 (newest first)."""
    for week, count in enumerate(per_week, start=1):
        await traffic(org, key, NOW - timedelta(weeks=week, minutes=50), count)


async def test_unusual_activity_fires_once_per_episode(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    unusual = await rule(
        org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=30_000, min_requests=20
    )
    await usual_wednesdays(org, key, [12, 8, 10, 10])  # a mean of 10 requests, $1.00
    await traffic(org, key, NOW - timedelta(minutes=40), 35)  # 3.5x the usual

    await run_once(settings, NOW)
    await run_once(settings, NOW + timedelta(minutes=1))  # still in the window: same episode
    await run_once(settings, NOW + timedelta(hours=2))  # quiet again: the episode ends
    await traffic(org, key, NOW + timedelta(hours=2, minutes=30), 40)
    await run_once(settings, NOW + timedelta(hours=3))  # a new spike: a new episode

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == [
        (f"rule-{unusual.id}/2024-05-08T14:30:00.000000+00:00", "3x", 350 * CENT),
        (f"rule-{unusual.id}/2024-05-08T17:30:00.000000+00:00", "3x", 400 * CENT),
    ]
    first = await AlertEvent.filter(organization_id=org.id).order_by("id").first()
    assert first is not None and first.message == (
        "Unusual activity for the organization: 35 requests and $3.50 in the last 60 minutes, "
        "against a usual 10 requests and $1.00 at this time of week (mean of the last 4 weeks); "
        "the rule fires at 3x."
    )
    assert len(receiver.requests) == 2
    assert all(r.signature_is_valid(SECRET) for r in receiver.requests)


async def test_unusual_spend_fires_even_at_the_usual_request_count(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    unusual = await rule(
        org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=25_000, min_requests=5
    )
    await usual_wednesdays(org, key, [10, 10, 10, 10])  # $1.00 an hour
    await traffic(org, key, NOW - timedelta(minutes=30), 10, cents=30)  # $3.00: 3x the spend

    await run_once(settings, NOW)

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == [
        (f"rule-{unusual.id}/2024-05-08T14:30:00.000000+00:00", "2.5x", 300 * CENT)
    ]


async def test_quiet_keys_below_the_minimum_volume_never_fire(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    await rule(org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=30_000, min_requests=50)
    await usual_wednesdays(org, key, [1, 1, 1, 1])
    await traffic(org, key, NOW - timedelta(minutes=30), 49)  # 49x the usual, but only 49

    await run_once(settings, NOW)

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == []


async def test_activity_within_the_factor_of_the_usual_does_not_fire(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    await rule(org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=30_000, min_requests=20)
    await usual_wednesdays(org, key, [10, 10, 10, 10])
    await traffic(org, key, NOW - timedelta(minutes=30), 29)  # 2.9x

    await run_once(settings, NOW)

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == []


async def test_a_new_organization_without_a_week_of_history_is_never_unusual(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org()
    await Organization.filter(id=org.id).update(created_at=NOW - timedelta(days=6))
    key = await make_key(org)
    await rule(org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=30_000, min_requests=20)
    await traffic(org, key, NOW - timedelta(minutes=30), 500)

    await run_once(settings, NOW)

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == []


async def test_weeks_before_the_organization_existed_are_left_out_of_the_baseline(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org()
    await Organization.filter(id=org.id).update(created_at=NOW - timedelta(days=10))
    key = await make_key(org)
    await rule(org, AlertKind.UNUSUAL_ACTIVITY, receiver.url, threshold_bps=30_000, min_requests=20)
    await usual_wednesdays(org, key, [10])  # one week of history: the mean is 10, not 2.5
    await traffic(org, key, NOW - timedelta(minutes=30), 25)

    await run_once(settings, NOW)

    assert await events(org, AlertKind.UNUSUAL_ACTIVITY) == []


# ERROR_RATE: 4xx+5xx share of the window against the 24 hours before it.


async def test_an_error_rate_spike_fires_once_per_episode(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org, label="checkout")
    spike = await rule(
        org,
        AlertKind.ERROR_RATE,
        receiver.url,
        api_key=key,
        threshold_bps=1_000,
        window_minutes=15,
        min_requests=20,
    )
    await traffic(org, key, NOW - timedelta(hours=10), 100, errors=2)  # 2% the day before
    await traffic(org, key, NOW - timedelta(minutes=10), 40, errors=10)  # 25% now

    await run_once(settings, NOW)
    await run_once(settings, NOW + timedelta(minutes=2))  # still 25%: same episode
    await traffic(org, key, NOW + timedelta(minutes=20), 40)  # recovered
    await run_once(settings, NOW + timedelta(minutes=30))
    await traffic(org, key, NOW + timedelta(minutes=40), 30, errors=15)  # 50%: a new episode
    await run_once(settings, NOW + timedelta(minutes=50))

    assert await events(org, AlertKind.ERROR_RATE) == [
        (f"rule-{spike.id}/2024-05-08T14:30:00.000000+00:00", "10", None),
        (f"rule-{spike.id}/2024-05-08T15:20:00.000000+00:00", "10", None),
    ]
    first = await AlertEvent.filter(organization_id=org.id).order_by("id").first()
    assert first is not None and first.message == (
        "Error-rate spike for API key 'checkout': 25% of 40 requests (10) answered 4xx or 5xx "
        "in the last 15 minutes, at or over the 10% threshold and at least twice the 2% of "
        "the 24 hours before."
    )
    assert len(receiver.requests) == 2
    assert all(r.signature_is_valid(SECRET) for r in receiver.requests)


async def test_an_error_rate_that_is_usual_for_the_key_does_not_fire(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    await rule(
        org,
        AlertKind.ERROR_RATE,
        receiver.url,
        threshold_bps=1_000,
        window_minutes=15,
        min_requests=20,
    )
    await traffic(org, key, NOW - timedelta(hours=10), 100, errors=20)  # 20% the day before
    await traffic(org, key, NOW - timedelta(minutes=10), 40, errors=10)  # 25%: not 2x

    await run_once(settings, NOW)

    assert await events(org, AlertKind.ERROR_RATE) == []


async def test_an_error_rate_on_too_few_requests_does_not_fire(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    key = await make_key(org)
    await rule(
        org,
        AlertKind.ERROR_RATE,
        receiver.url,
        threshold_bps=1_000,
        window_minutes=15,
        min_requests=20,
    )
    await traffic(org, key, NOW - timedelta(minutes=10), 19, errors=19)  # 100% of 19

    await run_once(settings, NOW)

    assert await events(org, AlertKind.ERROR_RATE) == []


async def test_each_rule_is_checked_once_per_interval_however_many_workers_run(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await old_org()
    await rule(org, AlertKind.DAILY_SPEND, receiver.url, threshold_nanos=USD)
    await rule(org, AlertKind.ERROR_RATE, receiver.url, threshold_bps=500)

    first = await run_once(settings, NOW)
    second = await run_once(settings, NOW + timedelta(seconds=30))
    third = await run_once(settings, NOW + timedelta(seconds=60))

    assert [r.rules.checked for r in (first, second, third)] == [2, 0, 2]
