"""Exports and /ingest/bulk pay the budgets too: x-ratelimit-* headers, 429 RATE_LIMITED."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from graph.rate_limiter import RateLimiter, RateLimits
from models.member import Role
from models.request_log import RequestLog
from settings import Settings
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.rate_clock import LibraryClock, library_clock

# Named here so pytest finds the imported fixture (and linters see it used).
__all__ = ["library_clock"]

FROM = "2024-03-01T00:00:00Z"
TO = "2024-03-03T00:00:00Z"


def _with_limits(app: Starlette, token: int, organization: int, ingest: int) -> None:
    app.state.rate_limiter = RateLimiter(RateLimits(token, organization, ingest, 100))


async def _export(
    client: httpx.AsyncClient, token: str, path: str, **params: str
) -> httpx.Response:
    return await client.get(
        path,
        params={"from": FROM, "to": TO, **params},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_an_export_pays_its_predicted_cost_and_says_so(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=50_000, organization=200_000, ingest=1_000_000)

    trend = await _export(client, token, "/export/usage/trend.csv")
    breakdown = await _export(client, token, "/export/usage/breakdown.csv", by="MODEL")
    logs = await _export(client, token, "/export/request-logs.jsonl")

    assert [r.status_code for r in (trend, breakdown, logs)] == [200, 200, 200]
    # From the token's 50,000: the daily trend over two days costs 10 + 2 rows x 34 columns
    # (4 bucket times, 30 figures) = 78; the breakdown without a limit 10 + 1,000 groups x
    # 31 columns (model, 30 figures) = 31,010; a
    # request-log export, whose length is unknown before it streams, AIZE_MAX_QUERY_COST.
    assert [r.headers["x-ratelimit-remaining"] for r in (trend, breakdown, logs)] == [
        "49922",
        "18912",
        "8912",
    ]
    assert logs.headers["x-ratelimit-limit"] == "50000"
    assert logs.headers["x-ratelimit-reset"] == "200"


async def test_an_export_the_budget_cannot_pay_is_refused_with_429(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=15_000, organization=200_000, ingest=1_000_000)

    first = await _export(client, token, "/export/request-logs.csv")
    second = await _export(client, token, "/export/request-logs.csv")

    assert first.status_code == 200
    assert second.status_code == 429
    # 10,000 spent, 10,000 asked: floor(10,000 x (100 - s) / 100) <= 5,000 once s > 49.99 s
    # into the next window, which starts in 100 s.
    assert second.headers["retry-after"] == "150"
    assert second.headers["x-ratelimit-remaining"] == "5000"
    # Refused at the gate: a request is let in only while the budget holds 10,000 points.
    assert second.json() == {
        "error": {
            "code": "RATE_LIMITED",
            "message": (
                "Rate limit exceeded: the token has 5000 points left, fewer than the 10000 a "
                "request must find before it is read; retry in 150 s (requests sent meanwhile "
                "are refused after a pause)."
            ),
            "remaining": 5_000,
            "retryAfterSeconds": 150,
        }
    }


async def test_an_organizations_exports_share_its_budget_and_spare_its_neighbours(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    org, neighbour = await make_org(), await make_org()
    first = await make_token(await make_member(org, Role.OWNER))
    second = await make_token(await make_member(org, Role.ADMIN))
    other = await make_token(await make_member(neighbour, Role.OWNER))
    _with_limits(app, token=50_000, organization=15_000, ingest=1_000_000)

    assert (await _export(client, first, "/export/request-logs.csv")).status_code == 200
    refused = await _export(client, second, "/export/request-logs.csv")
    spared = await _export(client, other, "/export/request-logs.csv")

    assert refused.status_code == 429
    assert "the organization has 5000 points left" in refused.json()["error"]["message"]
    assert spared.status_code == 200


async def test_an_export_with_a_bad_parameter_costs_one_point(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    _with_limits(app, token=50_000, organization=200_000, ingest=1_000_000)

    response = await _export(client, token, "/export/usage/trend.csv", colour="blue")

    assert response.status_code == 400
    assert response.headers["x-ratelimit-remaining"] == "49999"


async def test_a_bulk_batch_pays_one_point_per_record_from_the_ingest_budgets(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    _with_limits(app, token=10, organization=20, ingest=5)
    accepted = await post_bulk(client, token, [gateway_record(key) for _ in range(3)])
    refused = await post_bulk(client, token, [gateway_record(key) for _ in range(3)])

    assert accepted.status_code == 200
    assert accepted.json()["accepted"] == 3
    assert (accepted.headers["x-ratelimit-limit"], accepted.headers["x-ratelimit-remaining"]) == (
        "5",
        "2",
    )
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(refused.json()["error"]["retryAfterSeconds"])
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    # The gate: the ingest budget (5) holds less than a whole request may cost.
    assert refused.json()["error"]["message"].startswith(
        "Rate limit exceeded: the token has 2 points left"
    )
    # Nothing of the refused batch was stored.
    assert await RequestLog.filter(organization_id=org.id).count() == 3


async def test_a_refused_bulk_request_costs_one_point(
    app: Starlette, client: httpx.AsyncClient, db: Settings, library_clock: LibraryClock
) -> None:
    token = await make_ingest_token(await make_org())
    _with_limits(app, token=10, organization=20, ingest=5)

    response = await client.post(
        "/ingest/bulk",
        content=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )

    assert response.status_code == 415
    assert response.headers["x-ratelimit-remaining"] == "4"
