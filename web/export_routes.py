"""The HTTP routes of exports and stored reports, registered by web/app.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from models.read_replicas import replica_reads
from web.export_endpoint import (
    export_audit_trail,
    export_request_logs,
    export_usage_breakdown,
    export_usage_trend,
)
from web.report_endpoint import download_report


class ReplicaReadsEndpoint:
    """An export endpoint whose analytics reads may go to a read replica, from the
    handler through the last streamed row (the body is streamed after the handler
    returns, so this wraps the whole ASGI call)."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with replica_reads():
            await self.app(scope, receive, send)


EXPORT_ROUTES: list[Route] = [
    Route(
        "/export/request-logs.{format}",
        ReplicaReadsEndpoint(export_request_logs),
        methods=["GET"],
    ),
    Route(
        "/export/usage/trend.{format}", ReplicaReadsEndpoint(export_usage_trend), methods=["GET"]
    ),
    Route(
        "/export/usage/breakdown.{format}",
        ReplicaReadsEndpoint(export_usage_breakdown),
        methods=["GET"],
    ),
    Route("/export/audit.{format}", export_audit_trail, methods=["GET"]),
    Route("/reports/{report_id}.{format}", download_report, methods=["GET"]),
]
