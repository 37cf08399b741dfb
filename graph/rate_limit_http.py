"""Budgets on the HTTP endpoints outside GraphQL (exports, /ingest/bulk).

They pay the same budgets as GraphQL requests (graph/rate_limiter.py) and answer the same
way: the tighter budget in the x-ratelimit-* headers, and when a budget cannot pay, HTTP 429
with `retry-after` and `{"error": {"code": "RATE_LIMITED", "message", "retryAfterSeconds"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.viewer import Viewer
from graph.errors import ErrorCode
from graph.rate_limiter import RateLimiter
from graph.rate_window import BudgetState

# What a request refused after authentication (bad parameters, too large) costs.
REFUSED_REQUEST_COST = 1


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
    body = {
        "error": {
            "code": ErrorCode.RATE_LIMITED.value,
            "message": (
                f"Rate limit exceeded: {what} costs {points} points and {decision.payer} has "
                f"{decision.state.remaining} left; retry in {retry} s."
            ),
            "cost": points,
            "remaining": decision.state.remaining,
            "retryAfterSeconds": retry,
        }
    }
    return JSONResponse(body, 429, headers={**headers, "retry-after": str(retry)})


async def charge_refused(request: Request, viewer: Viewer, response: Response) -> Response:
    """`response` (a refusal) after charging its 1 point, with the budget headers."""
    limiter = _limiter(request)
    if limiter is not None:
        state: BudgetState = await limiter.charge_what_fits(viewer, REFUSED_REQUEST_COST)
        response.headers.update(state.headers())
    return response
