"""The HTTP routes of exports and stored reports, registered by graph/app.py."""

from __future__ import annotations

from starlette.routing import Route

from graph.export_endpoint import (
    export_audit_trail,
    export_request_logs,
    export_usage_breakdown,
    export_usage_trend,
)
from graph.report_endpoint import download_report

EXPORT_ROUTES: list[Route] = [
    Route("/export/request-logs.{format}", export_request_logs, methods=["GET"]),
    Route("/export/usage/trend.{format}", export_usage_trend, methods=["GET"]),
    Route("/export/usage/breakdown.{format}", export_usage_breakdown, methods=["GET"]),
    Route("/export/audit.{format}", export_audit_trail, methods=["GET"]),
    Route("/reports/{report_id}.{format}", download_report, methods=["GET"]),
]
