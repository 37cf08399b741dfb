"""ASGI middleware: every answer counted by route, operation name and status, and timed.

The route is the app's route template (`/graphql`, `/exports/...`), never the raw path, and
"other" for paths no route matched; the operation is the GraphQL operation name the schema
extension left in the request state (graph/extensions/operation_metrics.py), bounded by
`bounded_operation`. A 429 also counts as a rate-limit refusal.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.extensions.operation_metrics import OPERATION_STATE
from observability.metrics import (
    HTTP_LATENCY,
    HTTP_REQUESTS,
    RATE_LIMIT_REFUSALS,
    bounded_operation,
)

UNMATCHED_ROUTE = "other"
TOO_MANY_REQUESTS = 429


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = _route_of(scope)
            state: dict[str, Any] = scope.get("state") or {}
            operation = bounded_operation(state.get(OPERATION_STATE))
            HTTP_REQUESTS.labels(route=route, operation=operation, status=str(status)).inc()
            HTTP_LATENCY.labels(route=route, operation=operation).observe(
                time.perf_counter() - started
            )
            if status == TOO_MANY_REQUESTS:
                RATE_LIMIT_REFUSALS.labels(route=route).inc()


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE
