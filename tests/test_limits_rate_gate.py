"""A spent budget is answered before any work, after a pause; refusals for asking too much
cost what the costliest allowed query costs (the noisy neighbour's cheap refusals)."""

from __future__ import annotations

import dataclasses

import httpx
from starlette.applications import Starlette

from auth.viewer import Viewer
from graph.rate_limiter import RateLimiter, RateLimits
from models.member import Role
from models.request_log import RequestLog
from settings import Settings
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.rate_clock import LibraryClock, library_clock

__all__ = ["library_clock"]

# An hourly trend over 30 days split 20 ways, every bucket with its totals: far above the
# default AIZE_MAX_QUERY_COST (10,000), refused before anything runs.
TOO_COMPLEX = """
{ organization { usage(filter: {period: LAST_30_DAYS}) {
    trend(granularity: HOUR, splitBy: MODEL, limit: 20) {
      series { model buckets { start end totals { requests totalTokens customerCost } } } } } } }
"""
EXPORT_TOO_LARGE = {
    "from": "2024-01-01T00:00:00Z",
    "to": "2024-03-01T00:00:00Z",
    "granularity": "HOUR",
    "splitBy": "MODEL",
    "limit": "100",
}


class Pauses:
    """Records the pauses the server takes before a spent budget's 429 (instead of waiting)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def _with_limits(app: Starlette, token: int, organization: int) -> None:
    app.state.rate_limiter = RateLimiter(RateLimits(token, organization, 1_000_000, 100))


def _with_pause(app: Starlette, db: Settings, seconds: float) -> Pauses:
    app.state.settings = dataclasses.replace(db, rate_limit_pause_seconds=seconds)
    pauses = Pauses()
    app.state.sleep = pauses
    return pauses


async def _graphql(client: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_query_refused_as_too_complex_costs_the_costliest_allowed_query(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=30_000, organization=100_000)

    refused = await _graphql(client, token, TOO_COMPLEX)
    bad_input = await _graphql(client, token, "{ organization { nope } }")

    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    # AIZE_MAX_QUERY_COST is 10,000: 30,000 - 10,000; a validation error costs 1.
    assert refused.headers["x-ratelimit-remaining"] == "20000"
    assert bad_input.headers["x-ratelimit-remaining"] == "19999"


async def test_once_spent_a_request_is_refused_before_its_document_is_read(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=10_000, organization=100_000)
    pauses = _with_pause(app, db, 0.75)

    await _graphql(client, token, TOO_COMPLEX)
    # Not even parsed: a syntax error is answered 429, not BAD_USER_INPUT.
    gated = await _graphql(client, token, "{ this is not graphql")

    assert gated.status_code == 429
    body = gated.json()
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert body["errors"][0]["extensions"]["remaining"] == 0
    assert body["errors"][0]["message"].startswith(
        "Rate limit exceeded: the token has 0 points left, fewer than the 10000 a request must "
        "find before it is read; retry in "
    )
    assert gated.headers["retry-after"] == str(body["errors"][0]["extensions"]["retryAfterSeconds"])
    assert gated.headers["x-ratelimit-remaining"] == "0"
    # The pause is the setting's, the retry-after being longer.
    assert pauses.seconds == [0.75]


async def test_the_pause_is_never_longer_than_the_retry_after(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=10_000, organization=100_000)
    pauses = _with_pause(app, db, 3600.0)

    await _graphql(client, token, TOO_COMPLEX)
    gated = await _graphql(client, token, "{ viewer { role } }")

    assert gated.status_code == 429
    assert pauses.seconds == [float(gated.headers["retry-after"])]


async def test_a_spent_organization_does_not_gate_its_neighbour(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    attacker = await make_org()
    first = await make_token(await make_member(attacker, Role.OWNER))
    second = await make_token(await make_member(attacker, Role.ADMIN))
    neighbour = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=50_000, organization=10_000)

    await _graphql(client, first, TOO_COMPLEX)
    gated = await _graphql(client, second, "{ viewer { role } }")
    served = await _graphql(client, neighbour, "{ viewer { role } }")

    assert gated.status_code == 429
    assert "the organization has 0 points left" in gated.json()["errors"][0]["message"]
    assert served.status_code == 200
    assert served.json() == {
        "data": {"viewer": {"role": "OWNER"}},
        "extensions": served.json()["extensions"],
    }


async def test_an_export_refused_as_too_large_costs_the_costliest_allowed_query(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=10_000, organization=100_000)

    refused = await client.get(
        "/export/usage/trend.csv",
        params=EXPORT_TOO_LARGE,
        headers={"Authorization": f"Bearer {token}"},
    )
    gated = await client.get(
        "/export/request-logs.csv",
        params={"from": "2024-01-01T00:00:00Z", "to": "2024-01-02T00:00:00Z"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "QUERY_TOO_COMPLEX"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert gated.status_code == 429
    assert gated.json()["error"]["code"] == "RATE_LIMITED"
    assert gated.json()["error"]["remaining"] == 0


async def test_a_spent_ingest_budget_refuses_a_batch_before_reading_it(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    app.state.rate_limiter = RateLimiter(RateLimits(10_000, 100_000, 3, 100))

    accepted = await post_bulk(client, token, [gateway_record(key) for _ in range(3)])
    gated = await post_bulk(client, token, [gateway_record(key)])

    assert accepted.status_code == 200
    assert gated.status_code == 429
    assert gated.json()["error"]["message"].startswith(
        "Rate limit exceeded: the token has 0 points left"
    )
    assert await RequestLog.filter(organization_id=org.id).count() == 3


async def test_a_refusal_costing_more_than_is_left_spends_the_budget_to_zero(
    library_clock: LibraryClock,
) -> None:
    limiter = RateLimiter(RateLimits(15_000, 100_000, 1_000_000, 100))
    viewer = Viewer(token_id=1, organization_id=1, member_id=1, role=Role.OWNER, scopes=frozenset())

    first = await limiter.charge_what_fits(viewer, 10_000)
    # 10,000 asked, 5,000 held: the 5,000 are taken, not nothing.
    second = await limiter.charge_what_fits(viewer, 10_000)

    assert (first.remaining, second.remaining) == (5_000, 0)
    assert not (await limiter.check(viewer, 10_000)).allowed


async def test_a_budget_holding_less_than_the_costliest_query_admits_nothing(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=15_000, organization=100_000)

    refused = await _graphql(client, token, TOO_COMPLEX)
    cheap = await _graphql(client, token, "{ viewer { role } }")

    assert refused.headers["x-ratelimit-remaining"] == "5000"
    # 5,000 left could pay for this query, but before reading it the server cannot know:
    # a request is let in only while the budget holds the costliest query's 10,000.
    assert cheap.status_code == 429
    assert cheap.json()["errors"][0]["extensions"] == {
        "code": "RATE_LIMITED",
        "remaining": 5000,
        "retryAfterSeconds": int(cheap.headers["retry-after"]),
    }
