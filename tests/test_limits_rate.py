"""Per-token query budget: a leaky bucket of cost points with x-ratelimit-* headers."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from starlette.applications import Starlette

from graph.rate_limiter import TokenRateLimiter
from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_new_token_starts_with_a_full_bucket() -> None:
    limiter = TokenRateLimiter(100, 10, clock=FakeClock())
    state = limiter.peek(7)
    assert (state.limit, state.remaining, state.reset_seconds) == (100, 100, 0)


def test_a_request_takes_its_cost_and_the_bucket_refills_continuously() -> None:
    clock = FakeClock()
    limiter = TokenRateLimiter(100, 10, clock=clock)

    decision = limiter.try_consume(7, 60)

    assert decision.allowed
    assert (decision.state.remaining, decision.state.reset_seconds) == (40, 6)
    clock.now += 2.5
    assert limiter.peek(7).remaining == 65
    clock.now += 100
    assert limiter.peek(7).remaining == 100


def test_a_request_costing_more_than_is_left_is_refused_and_takes_nothing() -> None:
    clock = FakeClock()
    limiter = TokenRateLimiter(100, 10, clock=clock)
    limiter.try_consume(7, 90)

    refused = limiter.try_consume(7, 35)

    assert not refused.allowed
    assert refused.state.remaining == 10
    # 25 points missing at 10 points per second
    assert refused.retry_after_seconds == 3
    clock.now += 2.5
    assert limiter.try_consume(7, 35).allowed


def test_tokens_have_separate_buckets() -> None:
    limiter = TokenRateLimiter(100, 10, clock=FakeClock())
    limiter.try_consume(1, 100)
    assert limiter.try_consume(2, 100).allowed
    assert not limiter.try_consume(1, 1).allowed


def test_settling_refunds_unused_points_without_exceeding_capacity() -> None:
    limiter = TokenRateLimiter(100, 10, clock=FakeClock())
    limiter.try_consume(7, 50)
    assert limiter.settle(7, charged=50, actual=20).remaining == 80
    assert limiter.settle(7, charged=90, actual=0).remaining == 100


def test_settling_a_costlier_than_estimated_request_can_leave_a_debt() -> None:
    clock = FakeClock()
    limiter = TokenRateLimiter(100, 10, clock=clock)
    limiter.try_consume(7, 100)

    state = limiter.settle(7, charged=100, actual=150)

    assert (state.remaining, state.reset_seconds) == (0, 15)
    clock.now += 5
    assert not limiter.try_consume(7, 1).allowed
    clock.now += 0.1
    assert limiter.try_consume(7, 1).allowed


def test_headers_name_limit_remaining_and_reset() -> None:
    limiter = TokenRateLimiter(100, 10, clock=FakeClock())
    assert limiter.try_consume(7, 15).state.headers() == {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "85",
        "x-ratelimit-reset": "2",
    }


def test_full_buckets_are_forgotten_once_many_tokens_were_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graph import rate_limiter

    monkeypatch.setattr(rate_limiter, "_SWEEP_THRESHOLD", 2)
    clock = FakeClock()
    limiter = TokenRateLimiter(100, 10, clock=clock)
    limiter.try_consume(1, 50)
    limiter.try_consume(2, 100)
    clock.now += 5  # token 1 is full again, token 2 is not

    limiter.try_consume(3, 10)

    assert limiter.peek(2).remaining == 50
    assert limiter.tracked_tokens == 2


def test_capacity_and_refill_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenRateLimiter(0, 10)
    with pytest.raises(ValueError):
        TokenRateLimiter(10, 0)


def _with_clock(app: Starlette, capacity: int, refill: int) -> FakeClock:
    clock = FakeClock()
    app.state.rate_limiter = TokenRateLimiter(capacity, refill, clock=clock)
    return clock


async def _post(http: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


# folder 1 + children 1 + 20 x name; 3 children come back, so the actual cost is 5
TWENTY_TWO = "{ folder { children(first: 20) { name } } }"
# Each alias is a folder with a child: 3 points each, as requested and as returned
TWENTY_ONE = "{ " + " ".join(f"f{n}: folder {{ child {{ name }} }}" for n in range(7)) + " }"


async def test_every_graphql_response_carries_the_tokens_budget(db: Settings) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_clock(app, capacity=1_000, refill=10)
    async with client_for(app) as http:
        response = await _post(http, token, TWENTY_TWO)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "1000"
    assert response.headers["x-ratelimit-remaining"] == "995"
    assert response.headers["x-ratelimit-reset"] == "1"


async def test_the_charge_is_settled_to_the_actual_cost(db: Settings) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_clock(app, capacity=1_000, refill=10)
    async with client_for(app) as http:
        response = await _post(http, token, TWENTY_TWO)
    # 20 children asked for (22 points), 3 returned (5 points)
    assert response.json()["extensions"]["cost"] == {"requested": 22, "actual": 5, "limit": 10_000}
    assert response.headers["x-ratelimit-remaining"] == "995"


async def test_an_exhausted_budget_answers_429_rate_limited_with_retry_after(
    db: Settings,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(dataclasses.replace(db, max_query_cost=40))
    clock = _with_clock(app, capacity=40, refill=10)
    async with client_for(app) as http:
        first = await _post(http, token, TWENTY_ONE)
        second = await _post(http, token, TWENTY_ONE)
        clock.now += 0.125  # 20.25 points: not yet
        still_early = await _post(http, token, TWENTY_ONE)
        clock.now += 0.125  # 21.5 points
        third = await _post(http, token, TWENTY_ONE)

    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining"] == "19"
    assert second.status_code == 429
    assert second.headers["retry-after"] == "1"
    assert second.headers["x-ratelimit-remaining"] == "19"
    body = second.json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": (
                "Rate limit exceeded: this query costs 21 points and the token has 19 left; "
                "retry in 1 s."
            ),
            "extensions": {
                "code": "RATE_LIMITED",
                "cost": 21,
                "remaining": 19,
                "retryAfterSeconds": 1,
            },
        }
    ]
    assert still_early.status_code == 429
    assert third.status_code == 200
    assert third.json()["data"]["f0"] == {"child": {"name": "root/child"}}


async def test_a_refused_query_still_costs_one_point(db: Settings) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_clock(app, capacity=1_000, refill=10)
    async with client_for(app) as http:
        syntax = await _post(http, token, "{ folder { ")
        invalid = await _post(http, token, "{ folder { nope } }")
    assert syntax.headers["x-ratelimit-remaining"] == "999"
    assert invalid.headers["x-ratelimit-remaining"] == "998"


async def test_budgets_are_per_token(db: Settings) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    first_token, second_token = await make_token(owner), await make_token(owner)
    app = probe_app(dataclasses.replace(db, max_query_cost=40))
    _with_clock(app, capacity=40, refill=10)
    async with client_for(app) as http:
        await _post(http, first_token, TWENTY_ONE)
        refused = await _post(http, first_token, TWENTY_ONE)
        other = await _post(http, second_token, TWENTY_ONE)
    assert refused.status_code == 429
    assert other.status_code == 200
    assert other.headers["x-ratelimit-remaining"] == "19"
