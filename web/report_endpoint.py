"""GET /reports/{id}.html | .csv: a stored report's content, for Admins and Owners.

`id` is the report's global id (as `Organization.reports` lists it). A report of another
organization answers exactly as a missing one (404). The HTML page gets its own strict
Content-Security-Policy: inline styles only, no script, nothing loaded.

A download pays the budgets like an export (web/rate_limit_http.py): it is refused 429
before anything is read while a budget holds less than a whole request's worth, and costs
one point per started KiB of the file sent (`report_download_charge`), so looping over a
large report spends the budget like the export that would compute it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from graph.errors import ErrorCode
from models.global_ids import decode_global_id_of
from reports.store import report_by_id
from resolvers.scope import Scope
from web.export_endpoint import authorize
from web.rate_limit_http import charge, charge_refused, refuse_when_spent
from web.responses import error_response

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
BYTES_PER_POINT = 1024


def report_download_charge(size_bytes: int) -> int:
    """Points a download of `size_bytes` costs: one per started KiB, at least 1."""
    return max(-(-size_bytes // BYTES_PER_POINT), 1)


async def download_report(request: Request) -> Response:
    """The report as HTML (shown inline) or CSV (an attachment)."""
    viewer = await authorize(request, export_scope=False)
    if isinstance(viewer, Response):
        return viewer
    spent = await refuse_when_spent(request, viewer)
    if spent is not None:
        return spent
    export_format = str(request.path_params["format"]).lower()
    if export_format not in {"html", "csv"}:
        refusal = error_response(400, ErrorCode.BAD_USER_INPUT, "format: expected .html or .csv")
        return await charge_refused(request, viewer, refusal)
    report_id = decode_global_id_of(str(request.path_params["report_id"]), "Report")
    report = None
    if report_id is not None:
        report = await report_by_id(Scope.for_viewer(viewer), report_id)
    if report is None:
        missing = error_response(404, ErrorCode.NOT_FOUND, "no such report")
        return await charge_refused(request, viewer, missing)
    name = (
        f"{report.kind.value.lower()}-report_{report.period_start:%Y%m%dT%H%M%SZ}.{export_format}"
    )
    content = report.html if export_format == "html" else report.csv
    payload = content.encode()
    charged = await charge(
        request, viewer, report_download_charge(len(payload)), "this report download"
    )
    if isinstance(charged, Response):
        return charged
    if export_format == "html":
        headers = {
            "Content-Disposition": f'inline; filename="{name}"',
            "Content-Security-Policy": REPORT_CSP,
        }
        media_type = "text/html; charset=utf-8"
    else:
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        media_type = "text/csv; charset=utf-8"
    return Response(payload, media_type=media_type, headers={**headers, **charged.headers})
