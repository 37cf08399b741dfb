"""Budgets on the HTTP endpoints outside GraphQL (exports, /ingest/bulk).

They pay the same budgets as GraphQL requests (graph/rate_limiter.py) and answer the same
way: the tighter budget in the x-ratelimit-* headers, and when a budget cannot pay, HTTP 429
with `retry-after` and `{"error": {"code": "RATE_LIMITED", "message", "retryAfterSeconds"}}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.viewer import Viewer
from graph.errors import ErrorCode
from graph.rate_limiter import RateLimiter
from graph.rate_window import BudgetState
from web.responses import error_response

# What a request refused after authentication (bad parameters) costs.
REFUSED_REQUEST_COST = 1
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Charged:
    """A request that may run, and the budget headers its response carries."""

    headers: dict[str, str]


def _limiter(request: Request) -> RateLimiter | None:
    limiter = getattr(request.app.state, "rate_limiter", None)
    return limiter if isinstance(limiter, RateLimiter) else None


async def charge(request: Request, viewer: Viewer, points: int, what: str) -> Charged | Response:
    """Take `points` from the viewer's budgets: the headers to send, or the 429 answer.
    `what` names the request in the refusal ("this export", "this batch of 20 records")."""
    limiter = _limiter(request)
    if limiter is None:
        return Charged({})
    decision = await limiter.charge(viewer, points)
    headers = decision.state.headers()
    if decision.allowed:
        return Charged(headers)
    retry = decision.retry_after_seconds
    return error_response(
        429,
        ErrorCode.RATE_LIMITED,
        (
            f"Rate limit exceeded: {what} costs {points} points and {decision.payer} has "
            f"{decision.state.remaining} left; retry in {retry} s."
        ),
        headers={**headers, "retry-after": str(retry)},
        cost=points,
        remaining=decision.state.remaining,
        retryAfterSeconds=retry,
    )


async def charge_refused(
    request: Request, viewer: Viewer, response: Response, points: int = REFUSED_REQUEST_COST
) -> Response:
    """`response` (a refusal) after charging its `points` (1, or AIZE_MAX_QUERY_COST for an
    export refused as too large), with the budget headers."""
    limiter = _limiter(request)
    if limiter is not None:
        state: BudgetState = await limiter.charge_what_fits(viewer, points)
        response.headers.update(state.headers())
    return response


async def refuse_when_spent(
    request: Request, viewer: Viewer, *, graphql: bool = False
) -> Response | None:
    """None while the viewer's budgets hold AIZE_MAX_QUERY_COST points, the most a
    request can be charged before its cost is known (a budget smaller than that: all of
    it); else the 429 answering the request before any work is done on it (no body read,
    no parse, no database). So a budget spent to its last points admits nothing until it
    has regained a whole request's worth, rather than one costly refusal per point regained.

    It is sent after a pause of AIZE_RATE_LIMIT_PAUSE_SECONDS (at most the retry-after):
    a client that keeps sending while its budget is spent then waits instead of making the
    server refuse it hundreds of times a second. `graphql` shapes the body as GraphQL
    errors (`{"errors": [...]}`), else as the REST endpoints' `{"error": {...}}`.
    """
    limiter = _limiter(request)
    if limiter is None:
        return None
    settings = request.app.state.settings
    needed = settings.max_query_cost
    decision = await limiter.check(viewer, needed)
    if decision.allowed:
        return None
    retry = decision.retry_after_seconds
    pause = min(float(settings.rate_limit_pause_seconds), float(retry))
    if pause > 0:
        sleep: Sleep = getattr(request.app.state, "sleep", asyncio.sleep)
        await sleep(pause)
    left = decision.state.remaining
    message = (
        f"Rate limit exceeded: {decision.payer} has {left} points left, fewer than the "
        f"{needed} a request must find before it is read; retry in {retry} s (requests "
        "sent meanwhile are refused after a pause)."
    )
    details = {"remaining": decision.state.remaining, "retryAfterSeconds": retry}
    code = ErrorCode.RATE_LIMITED
    headers = {**decision.state.headers(), "retry-after": str(retry)}
    if not graphql:
        return error_response(429, code, message, headers=headers, **details)
    body = {"errors": [{"message": message, "extensions": {"code": code.value, **details}}]}
    return JSONResponse(body, 429, headers=headers)
