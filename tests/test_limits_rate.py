"""Budgets per token and per organization (the `limits` library's sliding window counters),
charged before a request runs, reported in x-ratelimit-* headers."""

from __future__ import annotations

import dataclasses

import httpx
from starlette.applications import Starlette

from auth.viewer import Viewer
from graph.rate_limiter import RateLimiter, RateLimits
from graph.rate_window import BudgetState
from models.access_token import Scope
from models.member import Role
from settings import Settings
from tests.factories import make_ingest_token, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app
from tests.rate_clock import LibraryClock, library_clock

# Named here so pytest finds the imported fixture (and linters see it used).
__all__ = ["library_clock"]

# 100 points per token, 250 per organization, 1000 per ingest budget, per 50 s window.
LIMITS = RateLimits(
    token_capacity=100, organization_capacity=250, ingest_capacity=1_000, window_seconds=50
)


def reader(token_id: int, organization_id: int) -> Viewer:
    return Viewer(token_id, organization_id, token_id, Role.OWNER, frozenset({Scope.READ}))


def gateway(token_id: int, organization_id: int) -> Viewer:
    return Viewer(token_id, organization_id, None, None, frozenset({Scope.INGEST}))


async def test_a_request_pays_its_token_and_its_organization(library_clock: LibraryClock) -> None:
    limiter = RateLimiter(LIMITS)

    decision = await limiter.charge(reader(1, 10), 60)

    assert decision.allowed
    # The token (40 left) is tighter than the organization (190 left); its window ends in
    # 50 s and what was spent in it is gone one window later.
    assert decision.state == BudgetState(limit=100, remaining=40, reset_seconds=100)
    assert decision.payer == "the token"


async def test_a_second_token_of_the_organization_shares_its_budget(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(LIMITS)
    first, second, third = reader(1, 10), reader(2, 10), reader(3, 10)
    assert (await limiter.charge(first, 100)).allowed
    assert (await limiter.charge(second, 100)).allowed

    refused = await limiter.charge(third, 60)

    assert not refused.allowed
    assert refused.payer == "the organization"
    assert refused.state == BudgetState(limit=250, remaining=50, reset_seconds=100)
    # The window ends in 50 s; 3 s later floor(200 x 47 / 50) = 188 and 188 + 60 <= 250
    # (2 s later, 192 + 60 > 250).
    assert refused.retry_after_seconds == 53
    # The third token's own budget was not touched by the refusal.
    assert (await limiter.charge(third, 50)).state.remaining == 0


async def test_another_organization_is_unaffected_by_a_spent_one(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(LIMITS)
    for token_id in range(1, 4):
        await limiter.charge(reader(token_id, 10), 80)
    assert not (await limiter.charge(reader(4, 10), 20)).allowed

    neighbour = await limiter.charge(reader(5, 11), 100)

    assert neighbour.allowed
    assert neighbour.state == BudgetState(limit=100, remaining=0, reset_seconds=100)


async def test_a_refused_charge_takes_nothing_and_the_budget_comes_back_over_time(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(LIMITS)
    viewer = reader(1, 10)
    await limiter.charge(viewer, 90)

    refused = await limiter.charge(viewer, 35)

    assert not refused.allowed
    assert refused.state.remaining == 10
    # The window ends in 50 s; 13.4 s later floor(90 x 36.6 / 50) = 65 and 65 + 35 = 100.
    assert refused.retry_after_seconds == 64
    library_clock.now += 63.3  # floor(90 x 36.7 / 50) = 66: not yet
    assert not (await limiter.charge(viewer, 35)).allowed
    library_clock.now += 0.1
    allowed = await limiter.charge(viewer, 35)
    assert allowed.allowed
    # 65 spent in the previous window, 35 in this one, which ends in 36.6 s.
    assert allowed.state == BudgetState(limit=100, remaining=0, reset_seconds=87)
    library_clock.now += 100
    assert (await limiter.peek(viewer)) == BudgetState(limit=100, remaining=100, reset_seconds=0)


async def test_refused_requests_cost_one_point_even_from_an_empty_budget(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(LIMITS)
    viewer = reader(1, 10)
    assert (await limiter.charge_what_fits(viewer)).remaining == 99
    await limiter.charge(viewer, 99)

    assert (await limiter.charge_what_fits(viewer)).remaining == 0


async def test_ingest_tokens_pay_the_ingest_budgets_not_the_dashboards_budget(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(LIMITS)
    for token_id in range(1, 4):
        await limiter.charge(reader(token_id, 10), 80)

    ingest = await limiter.charge(gateway(9, 10), 1_000)

    assert ingest.allowed
    assert ingest.state == BudgetState(limit=1_000, remaining=0, reset_seconds=100)
    # ... and a spent ingest budget leaves the readers' budgets alone.
    assert not (await limiter.charge(gateway(8, 10), 1)).allowed
    assert (await limiter.charge(reader(4, 10), 10)).allowed


async def test_budgets_default_from_the_settings() -> None:
    settings = Settings.from_env({})
    assert RateLimits.from_settings(settings) == RateLimits(
        token_capacity=100_000,
        organization_capacity=800_000,
        ingest_capacity=1_000_000,
        window_seconds=50,
    )
    assert not RateLimiter.from_settings(settings).is_shared


def _with_limits(app: Starlette, token: int, organization: int, window: int) -> None:
    limits = RateLimits(token, organization, 1_000, window)
    app.state.rate_limiter = RateLimiter(limits)


async def _post(http: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


# folder 1 + children 1 + 20 x name; 3 children come back, so the actual cost is 5
TWENTY_TWO = "{ folder { children(first: 20) { name } } }"
# Each alias is a folder with a child: 3 points each, as requested and as returned
TWENTY_ONE = "{ " + " ".join(f"f{n}: folder {{ child {{ name }} }}" for n in range(7)) + " }"


async def test_every_graphql_response_carries_the_tighter_budget(
    db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_limits(app, token=1_000, organization=4_000, window=100)
    async with client_for(app) as http:
        response = await _post(http, token, TWENTY_TWO)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "1000"
    assert response.headers["x-ratelimit-remaining"] == "978"
    assert response.headers["x-ratelimit-reset"] == "200"


async def test_a_request_pays_what_it_requested(db: Settings, library_clock: LibraryClock) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_limits(app, token=1_000, organization=4_000, window=100)
    async with client_for(app) as http:
        response = await _post(http, token, TWENTY_TWO)
    # 20 children asked for (22 points), 3 returned (5 points): the budgets give nothing back.
    assert response.json()["extensions"]["cost"] == {"requested": 22, "actual": 5, "limit": 10_000}
    assert response.headers["x-ratelimit-remaining"] == "978"


async def test_an_exhausted_budget_answers_429_rate_limited_with_retry_after(
    db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    # Queries may cost at most 21: a request is let in while the budgets hold 21 points.
    app = probe_app(dataclasses.replace(db, max_query_cost=21))
    _with_limits(app, token=40, organization=160, window=4)
    async with client_for(app) as http:
        first = await _post(http, token, TWENTY_ONE)
        second = await _post(http, token, TWENTY_ONE)
        library_clock.now += 4.1  # floor(21 x 3.9 / 4) = 20 still spent: 20 + 21 > 40
        still_early = await _post(http, token, TWENTY_ONE)
        library_clock.now += 0.1  # floor(21 x 3.8 / 4) = 19: 19 + 21 = 40
        third = await _post(http, token, TWENTY_ONE)

    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining"] == "19"
    assert second.status_code == 429
    assert second.headers["retry-after"] == "5"
    assert second.headers["x-ratelimit-remaining"] == "19"
    # Refused at the gate, before the document is read (web/rate_limit_http.py).
    assert second.json() == {
        "errors": [
            {
                "message": (
                    "Rate limit exceeded: the token has 19 points left, fewer than the 21 a "
                    "request must find before it is read; retry in 5 s (requests sent "
                    "meanwhile are refused after a pause)."
                ),
                "extensions": {"code": "RATE_LIMITED", "remaining": 19, "retryAfterSeconds": 5},
            }
        ]
    }
    assert still_early.status_code == 429
    assert third.status_code == 200
    assert third.json()["data"]["f0"] == {"child": {"name": "root/child"}}


async def test_a_refused_query_still_costs_one_point(
    db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    _with_limits(app, token=20_000, organization=80_000, window=100)
    async with client_for(app) as http:
        syntax = await _post(http, token, "{ folder { ")
        invalid = await _post(http, token, "{ folder { nope } }")
    assert syntax.headers["x-ratelimit-remaining"] == "19999"
    assert invalid.headers["x-ratelimit-remaining"] == "19998"


async def test_tokens_of_one_organization_share_its_budget_and_others_keep_theirs(
    db: Settings, library_clock: LibraryClock
) -> None:
    org, neighbour = await make_org(), await make_org()
    owner = await make_member(org, Role.OWNER)
    first_token, second_token = await make_token(owner), await make_token(owner)
    member_token = await make_token(await make_member(org, Role.MEMBER))
    neighbour_token = await make_token(await make_member(neighbour, Role.OWNER))
    app = probe_app(dataclasses.replace(db, max_query_cost=21))
    _with_limits(app, token=40, organization=50, window=4)
    async with client_for(app) as http:
        first = await _post(http, first_token, TWENTY_ONE)
        second = await _post(http, second_token, TWENTY_ONE)
        third = await _post(http, member_token, TWENTY_ONE)
        other = await _post(http, neighbour_token, TWENTY_ONE)

    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining"] == "19"
    # The second token's own budget holds 19 after this; the organization's 8.
    assert second.status_code == 200
    assert (second.headers["x-ratelimit-limit"], second.headers["x-ratelimit-remaining"]) == (
        "50",
        "8",
    )
    assert third.status_code == 429
    assert third.json()["errors"][0]["message"] == (
        "Rate limit exceeded: the organization has 8 points left, fewer than the 21 a request "
        "must find before it is read; retry in 6 s (requests sent meanwhile are refused after "
        "a pause)."
    )
    assert other.status_code == 200
    assert other.headers["x-ratelimit-remaining"] == "19"


async def test_ingest_tokens_graphql_requests_pay_the_ingest_budgets(
    db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    token = await make_ingest_token(org)
    app = probe_app(db)
    _with_limits(app, token=500, organization=4_000, window=100)
    async with client_for(app) as http:
        response = await _post(http, token, "{ folder { nope } }")
    assert response.headers["x-ratelimit-limit"] == "1000"
    assert response.headers["x-ratelimit-remaining"] == "999"
