"""Budgets shared in Redis (AIZE_REDIS_URL) by every worker and replica, and what happens
when Redis cannot be reached.

Two RateLimiter instances stand for two server processes. Each test uses its own key prefix
so tests never share counters. Redis must answer under CI; elsewhere these tests skip with
the reason when it does not.
"""

from __future__ import annotations

import logging

import pytest

from auth.viewer import Viewer
from graph.rate_limiter import SHARED_RETRY_SECONDS, RateLimiter, RateLimits
from graph.rate_window import BudgetState
from models.access_token import Scope
from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from tests.redis_fixtures import CLOSED_PORT_URL, REDIS_URL, Clock, key_prefix_fixture
from web.app import create_app

LIMITS = RateLimits(
    token_capacity=100, organization_capacity=250, ingest_capacity=1_000, window_seconds=600
)


def reader(token_id: int, organization_id: int) -> Viewer:
    return Viewer(token_id, organization_id, token_id, Role.OWNER, frozenset({Scope.READ}))


key_prefix = key_prefix_fixture("aize-test")


async def test_two_processes_share_a_tokens_budget(key_prefix: str) -> None:
    first = RateLimiter(LIMITS, REDIS_URL, key_prefix=key_prefix)
    second = RateLimiter(LIMITS, REDIS_URL, key_prefix=key_prefix)
    viewer = reader(1, 10)

    assert (await first.charge(viewer, 60)).allowed
    refused = await second.charge(viewer, 50)

    assert first.is_shared and second.is_shared
    assert not refused.allowed
    assert refused.payer == "the token"
    assert refused.state.remaining == 40
    assert (await second.charge(viewer, 40)).state.remaining == 0


async def test_two_processes_share_an_organizations_budget(key_prefix: str) -> None:
    first = RateLimiter(LIMITS, REDIS_URL, key_prefix=key_prefix)
    second = RateLimiter(LIMITS, REDIS_URL, key_prefix=key_prefix)
    for token_id, limiter in ((1, first), (2, second)):
        assert (await limiter.charge(reader(token_id, 10), 100)).allowed

    refused = await first.charge(reader(3, 10), 60)
    neighbour = await second.charge(reader(4, 11), 100)

    assert not refused.allowed
    assert refused.payer == "the organization"
    assert refused.state.remaining == 50
    assert neighbour.allowed


async def test_a_full_budget_in_redis_reports_its_window(key_prefix: str) -> None:
    limiter = RateLimiter(LIMITS, REDIS_URL, key_prefix=key_prefix)
    viewer = reader(1, 10)
    assert await limiter.peek(viewer) == BudgetState(limit=100, remaining=100, reset_seconds=0)

    state = (await limiter.charge(viewer, 30)).state

    # Redis windows start at their first hit: this one ends in (just under) 600 s.
    assert (state.limit, state.remaining) == (100, 70)
    assert 1_190 < state.reset_seconds <= 1_200


async def test_without_redis_budgets_fall_back_to_the_process_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limiter = RateLimiter(LIMITS, CLOSED_PORT_URL, key_prefix="unused", clock=clock)
    viewer = reader(1, 10)

    with caplog.at_level(logging.WARNING, logger="aize.rate_limit"):
        first = await limiter.charge(viewer, 60)
        second = await limiter.charge(viewer, 50)
        clock.now += SHARED_RETRY_SECONDS
        third = await limiter.charge(viewer, 40)

    # Still limited, by this process's memory: neither open nor closed.
    assert first.allowed and first.state.remaining == 40
    assert not second.allowed
    assert third.allowed and third.state.remaining == 0
    assert not limiter.is_shared
    warnings = [r.getMessage() for r in caplog.records if r.name == "aize.rate_limit"]
    assert len(warnings) == 1
    assert warnings[0].startswith("rate limits: Redis cannot be reached (")
    assert "budgets are kept in this process's memory" in warnings[0]


async def test_two_workers_answer_from_one_budget(db: Settings, key_prefix: str) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    shared = Settings.from_env({"AIZE_REDIS_URL": REDIS_URL})
    workers = [create_app(db, manage_database=False) for _ in range(2)]
    for worker in workers:
        limits = RateLimits.from_settings(shared)
        worker.state.rate_limiter = RateLimiter(limits, shared.redis_url, key_prefix=key_prefix)
    remaining = []
    for worker in (*workers, *workers):
        async with client_for(worker) as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        remaining.append(response.headers["x-ratelimit-remaining"])
    # { viewer { role } } requests 2 points; each worker sees the other's charges.
    assert remaining == ["99998", "99996", "99994", "99992"]


def test_the_limiter_shares_budgets_when_a_redis_url_is_set() -> None:
    settings = Settings.from_env({"AIZE_REDIS_URL": REDIS_URL})
    assert RateLimiter.from_settings(settings).is_shared
