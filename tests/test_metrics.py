"""/metrics: protected by AIZE_METRICS_TOKEN, and exact counts after known requests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from graph.rate_limiter import RateLimiter, RateLimits
from models.database import connection
from models.global_ids import encode_global_id
from models.member import Role
from observability.metrics import OTHER_OPERATION, OperationLabels
from pricing.money import usd_to_nanos
from settings import Settings, SettingsError
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.ingest_support import gateway_record, post_bulk
from tests.metrics_support import METRICS_TOKEN, scrape, value
from web.app import create_app


def _app(db: Settings, **changes: object) -> Starlette:
    settings = dataclasses.replace(db, metrics_token=METRICS_TOKEN, **changes)  # type: ignore[arg-type]
    return create_app(settings, manage_database=False)


@pytest.fixture
def metrics_app(db: Settings) -> Starlette:
    return _app(db)


@pytest.fixture
async def metrics_client(metrics_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(metrics_app) as http:
        yield http


async def test_without_a_token_setting_there_is_no_metrics_route(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789abcdef", f"Basic {METRICS_TOKEN}", "Bearer"],
)
async def test_a_scraper_without_the_token_gets_a_401(
    metrics_client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await metrics_client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aize-analytics metrics"'
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "aize_http_requests" not in response.text


def test_a_short_metrics_token_is_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="AIZE_METRICS_TOKEN must be at least 16"):
        Settings.from_env({"AIZE_METRICS_TOKEN": "short"})


async def test_requests_latency_and_errors_are_counted_by_operation_and_status(
    metrics_client: httpx.AsyncClient,
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    auth = {"Authorization": f"Bearer {token}"}
    before = await scrape(metrics_client)

    for _ in range(2):
        ok = await metrics_client.post(
            "/graphql", json={"query": "query WhoAmI { viewer { role } }"}, headers=auth
        )
        assert ok.status_code == 200
    bad = await metrics_client.post(
        "/graphql", json={"query": "query Broken { viewer { nope } }"}, headers=auth
    )
    unauthenticated = await metrics_client.post("/graphql", json={"query": "{ viewer { role } }"})
    after = await scrape(metrics_client)

    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert unauthenticated.status_code == 401

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "/graphql"
    requests = "aize_http_requests_total"
    assert delta(requests, route=route, operation="WhoAmI", status="200") == 2
    assert delta(requests, route=route, operation="Broken", status=str(bad.status_code)) == 1
    assert delta(requests, route=route, operation="", status="401") == 1
    latency = "aize_http_request_duration_seconds_count"
    assert delta(latency, route=route, operation="WhoAmI") == 2
    assert delta("aize_graphql_errors_total", code="BAD_USER_INPUT") == 1
    # The first scrape itself, counted once it was answered.
    assert delta(requests, route="/metrics", operation="", status="200") == 1


async def test_ingest_outcomes_are_counted_per_record(
    metrics_client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    ingest = await make_ingest_token(org)
    first, second = gateway_record(key), gateway_record(key)
    await post_bulk(metrics_client, ingest, [first])
    before = await scrape(metrics_client)

    response = await post_bulk(
        metrics_client, ingest, [first, second, gateway_record(key, inputTokens=-1)]
    )
    after = await scrape(metrics_client)

    assert response.json()["accepted"] == 1
    name = "aize_ingest_records_total"
    assert value(after, name, outcome="accepted") - value(before, name, outcome="accepted") == 1
    assert value(after, name, outcome="duplicate") - value(before, name, outcome="duplicate") == 1
    assert value(after, name, outcome="rejected") - value(before, name, outcome="rejected") == 1


async def test_rate_limit_refusals_are_counted_by_route(
    metrics_app: Starlette, metrics_client: httpx.AsyncClient
) -> None:
    org = await make_org()
    key = await make_key(org)
    ingest = await make_ingest_token(org)
    # An ingest budget of 3 points (1 per record): the first batch spends it all.
    metrics_app.state.rate_limiter = RateLimiter(RateLimits(100_000, 100_000, 3, 100))
    paid = await post_bulk(metrics_client, ingest, [gateway_record(key) for _ in range(3)])
    before = await scrape(metrics_client)

    refused = await post_bulk(metrics_client, ingest, [gateway_record(key)])
    after = await scrape(metrics_client)

    assert [paid.status_code, refused.status_code] == [200, 429]
    name = "aize_rate_limit_refusals_total"
    assert value(after, name, route="/ingest/bulk") - value(before, name, route="/ingest/bulk") == 1
    assert value(after, name, route="/graphql") == value(before, name, route="/graphql")


async def test_organization_spend_gauges_only_when_asked_for(db: Settings) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.01"))
    other = await make_org(monthly_budget_nanos=usd_to_nanos("50"))
    key = await make_key(org)
    ingest = await make_ingest_token(org)
    async with client_for(_app(db)) as plain:
        # gpt-4, 1,000 input and 500 output tokens: $0.06, +25% and $0.01 = $0.085 each.
        response = await post_bulk(plain, ingest, [gateway_record(key), gateway_record(key)])
        assert response.json()["accepted"] == 2
        without = await scrape(plain)
    async with client_for(_app(db, metrics_organization_spend=True)) as with_spend:
        samples = await scrape(with_spend)

    org_id = encode_global_id("Organization", org.id)
    other_id = encode_global_id("Organization", other.id)
    spend = "aize_organization_period_spend_usd"
    assert not any(name == spend for name, _ in without)
    assert value(samples, spend, organization=org_id) == 0.17
    assert value(samples, spend, organization=other_id) == 0.0
    budget = "aize_organization_budget_usd"
    assert value(samples, budget, organization=other_id) == 50.0
    assert (budget, frozenset({("organization", org_id)})) not in samples
    assert (
        "aize_organization_wallet_balance_usd",
        frozenset({("organization", org_id)}),
    ) in samples


async def test_the_spend_gauges_cover_at_most_the_organization_limit(db: Settings) -> None:
    first = await make_org()
    second = await make_org()
    app = _app(db, metrics_organization_spend=True, metrics_organization_limit=1)
    async with client_for(app) as http:
        samples = await scrape(http)

    organizations = {
        dict(labels)["organization"]
        for name, labels in samples
        if name == "aize_organization_period_spend_usd"
    }
    assert organizations == {encode_global_id("Organization", first.id)}
    assert encode_global_id("Organization", second.id) not in organizations


@pytest.mark.postgres_only
async def test_pool_connections_in_use_are_counted_while_held(
    metrics_client: httpx.AsyncClient, db: Settings
) -> None:
    idle = value(await scrape(metrics_client), "aize_db_pool_connections_in_use")
    async with connection()._in_transaction():  # holds one pooled connection
        held = value(await scrape(metrics_client), "aize_db_pool_connections_in_use")
    released = value(await scrape(metrics_client), "aize_db_pool_connections_in_use")

    assert held == idle + 1
    assert released == idle


def test_operation_names_are_bounded_label_values() -> None:
    labels = OperationLabels(limit=3)
    assert labels(None) == ""
    assert labels("Dashboard") == "Dashboard"
    assert labels("x" * 65) == OTHER_OPERATION
    assert labels("not a name") == OTHER_OPERATION
    assert [labels("Op1"), labels("Op2"), labels("Op3")] == ["Op1", "Op2", OTHER_OPERATION]
    assert labels("Dashboard") == "Dashboard"  # names already seen keep their label
