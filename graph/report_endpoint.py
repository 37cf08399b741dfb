"""GET /reports/{id}.html | .csv: a stored report's content, for Admins and Owners.

`id` is the report's global id (as `Organization.reports` lists it). A report of another
organization answers exactly as a missing one (404). The HTML page gets its own strict
Content-Security-Policy: inline styles only, no script, nothing loaded.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from graph.errors import ErrorCode
from graph.export_endpoint import authorize, error_response
from graph.relay import decode_global_id_of
from reports.store import report_by_id
from resolvers.scope import Scope

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


async def download_report(request: Request) -> Response:
    """The report as HTML (shown inline) or CSV (an attachment)."""
    viewer = await authorize(request, export_scope=False)
    if isinstance(viewer, Response):
        return viewer
    export_format = str(request.path_params["format"]).lower()
    if export_format not in {"html", "csv"}:
        return error_response(400, ErrorCode.BAD_USER_INPUT, "format: expected .html or .csv")
    report_id = decode_global_id_of(str(request.path_params["report_id"]), "Report")
    report = None
    if report_id is not None:
        report = await report_by_id(Scope.for_viewer(viewer), report_id)
    if report is None:
        return error_response(404, ErrorCode.NOT_FOUND, "no such report")
    name = (
        f"{report.kind.value.lower()}-report_{report.period_start:%Y%m%dT%H%M%SZ}.{export_format}"
    )
    if export_format == "html":
        return Response(
            report.html,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Disposition": f'inline; filename="{name}"',
                "Content-Security-Policy": REPORT_CSP,
            },
        )
    return Response(
        report.csv,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
