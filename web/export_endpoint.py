"""GET /export/...: request logs and usage reports as CSV or JSON lines, over HTTP.

    GET /export/request-logs.csv | .jsonl          streamed, newest first; search
    GET /export/usage/trend.csv | .jsonl           granularity, splitBy, limit
    GET /export/usage/breakdown.csv | .jsonl       by (required), orderBy, direction, limit
    GET /export/audit.csv | .jsonl                 the audit trail, streamed, newest first

Filters are the UsageFilter fields as query parameters (the audit trail's: the
AuditTrailFilter fields; see web/export_params.py); `bom=true`
starts a CSV with a UTF-8 byte order mark for Excel. A bearer token is required (401 JSON
without one); exporting is Admin/Owner only and needs the token's `export` scope (403 JSON
otherwise); bad parameters answer 400 JSON naming the parameter (1 point of the budgets);
a usage export whose predicted cost (exports/cost.py) is above AIZE_MAX_EXPORT_COST
answers 400 JSON with code QUERY_TOO_COMPLEX, its `cost` and the `limit`, before anything
is read (1 point); a usage export not built within AIZE_REQUEST_TIMEOUT_SECONDS answers
400 QUERY_TOO_COMPLEX. An export is charged its predicted cost (`export_charge`) to its
token's and organization's budgets before it runs (429 RATE_LIMITED with `retry-after`
when either cannot pay); its answers, 400s included, carry the x-ratelimit-* headers.
All of that is decided
before the first byte is sent: once streaming has begun, a failure can only cut the
response short (the chunked body then lacks its terminator, so clients see the transfer
fail rather than a shorter file).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from auth.viewer import Viewer
from exports.audit import audit_export
from exports.formats import ExportFormat, Row, RowEncoder
from exports.request_logs import request_log_export
from exports.usage import UsageExport
from graph.errors import BadUserInputError, ErrorCode
from graph.inputs.audit_filter import to_audit_filter
from graph.inputs.filters import to_log_filter
from models.access_token import Scope as TokenScope
from models.organization import Organization
from resolvers.errors import BadInputError, ForbiddenError
from resolvers.log_search import parse_search
from resolvers.loop_turns import in_slices
from resolvers.scope import LogFilter, Scope
from settings import Settings
from web.authentication import viewer_or_refusal
from web.export_charge import ExportKind, export_charge
from web.export_deadline import ExportDeadline
from web.export_filter import usage_filter
from web.export_params import (
    AUDIT_PARAMETERS,
    BREAKDOWN_PARAMETERS,
    LOG_PARAMETERS,
    TREND_PARAMETERS,
    ExportParams,
    UsageExportKind,
    audit_trail_filter,
    breakdown_export_for,
    predicted_export_cost,
    trend_export_for,
)
from web.rate_limit_http import (
    REFUSED_REQUEST_COST,
    Charged,
    charge,
    charge_refused,
    refuse_when_spent,
)
from web.responses import error_response

log = logging.getLogger("aize.export")

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


async def authorize(request: Request, *, export_scope: bool) -> Viewer | Response:
    """The caller, or the response refusing them: 401 without a valid token, 403 for an
    ingest token, a Member, or (with `export_scope`) a token lacking the export scope."""
    viewer = await viewer_or_refusal(request)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.can_read:
        return error_response(403, ErrorCode.FORBIDDEN, "this token cannot read analytics")
    if not viewer.sees_team:
        return error_response(
            403, ErrorCode.FORBIDDEN, "exports and reports are available to Admins and Owners only"
        )
    if export_scope and TokenScope.EXPORT not in viewer.scopes:
        return error_response(403, ErrorCode.FORBIDDEN, "this token lacks the 'export' scope")
    spent = await refuse_when_spent(request, viewer)
    return viewer if spent is None else spent


async def export_request_logs(request: Request) -> Response:
    """GET /export/request-logs.{csv,jsonl}: every matching log, streamed in chunks."""
    viewer = await authorize(request, export_scope=True)
    if isinstance(viewer, Response):
        return viewer
    try:
        export_format = _format(request)
        params = ExportParams(request.query_params.multi_items(), LOG_PARAMETERS | {"bom"})
        org, scope, log_filter = await _resolve(viewer, params)
        search = parse_search(params.text("search"))
        # Nothing is read from request_log until the chunks are iterated.
        export = await request_log_export(
            scope, log_filter, search=search, include_bodies=org.log_bodies
        )
        encoder = RowEncoder(export.columns, export_format, bom=params.flag("bom"))
    except _REFUSALS as exc:
        return await charge_refused(request, viewer, _refusal(exc), _refusal_points(request, exc))
    charged = await _charge(request, viewer, ExportKind.REQUEST_LOGS, params, log_filter)
    if isinstance(charged, Response):
        return charged
    name = _filename("request-logs", org, log_filter, export_format)
    return StreamingResponse(
        _stream(encoder, export.chunks),
        media_type=export_format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **charged.headers},
    )


@dataclass(frozen=True, slots=True)
class _UsageExportSpec:
    """What tells a trend export from a breakdown export; the rest of the path is shared."""

    kind: UsageExportKind
    charge_kind: ExportKind
    parameters: frozenset[str]
    build: Callable[[Scope, LogFilter, ExportParams], Awaitable[UsageExport]]
    stem: str


_TREND = _UsageExportSpec(
    "trend", ExportKind.USAGE_TREND, TREND_PARAMETERS, trend_export_for, "usage-trend"
)
_BREAKDOWN = _UsageExportSpec(
    "breakdown",
    ExportKind.USAGE_BREAKDOWN,
    BREAKDOWN_PARAMETERS,
    breakdown_export_for,
    "usage-breakdown",
)


async def export_usage_trend(request: Request) -> Response:
    """GET /export/usage/trend.{csv,jsonl}: zero-filled buckets (or series x buckets)."""
    return await _usage_export(request, _TREND)


async def export_usage_breakdown(request: Request) -> Response:
    """GET /export/usage/breakdown.{csv,jsonl}: one row per group (all groups unless
    `limit`), ordered as the API orders them."""
    return await _usage_export(request, _BREAKDOWN)


async def _usage_export(request: Request, spec: _UsageExportSpec) -> Response:
    """A whole usage export: refused before anything is read when its parameters are bad or
    its predicted cost too high, charged its prediction, built within the deadline."""
    viewer = await authorize(request, export_scope=True)
    if isinstance(viewer, Response):
        return viewer
    deadline = ExportDeadline.for_request(request)
    try:
        export_format = _format(request)
        params = ExportParams(request.query_params.multi_items(), spec.parameters | {"bom"})
        org, scope, log_filter = await _resolve(viewer, params)
        _check_cost(request, spec.kind, params, log_filter)
    except _REFUSALS as exc:
        return await charge_refused(request, viewer, _refusal(exc), _refusal_points(request, exc))
    charged = await _charge(request, viewer, spec.charge_kind, params, log_filter)
    if isinstance(charged, Response):
        return charged
    try:
        async with deadline.bound():
            export = await spec.build(scope, log_filter, params)
        encoder = RowEncoder(export.columns, export_format, bom=params.flag("bom"))
    except _REFUSALS as exc:
        # Parameters found wrong while building: the charge is spent (nothing refunds).
        return _with_headers(_refusal(exc), charged)
    except TimeoutError:
        return _with_headers(deadline.refusal(), charged)
    name = _filename(spec.stem, org, log_filter, export_format)
    return _with_headers(_whole(encoder, export, name, deadline), charged)


async def export_audit_trail(request: Request) -> Response:
    """GET /export/audit.{csv,jsonl}: every matching audit entry, streamed newest first."""
    viewer = await authorize(request, export_scope=True)
    if isinstance(viewer, Response):
        return viewer
    try:
        export_format = _format(request)
        params = ExportParams(request.query_params.multi_items(), AUDIT_PARAMETERS | {"bom"})
        org = await Organization.get(id=viewer.organization_id)
        wanted = to_audit_filter(audit_trail_filter(params))
        # Nothing is read from audit_entry until the chunks are iterated.
        export = await audit_export(Scope.for_viewer(viewer), wanted)
        encoder = RowEncoder(export.columns, export_format, bom=params.flag("bom"))
    except _REFUSALS as exc:
        return await charge_refused(request, viewer, _refusal(exc), _refusal_points(request, exc))
    settings: Settings = request.app.state.settings
    points = export_charge(ExportKind.AUDIT_TRAIL, params, None, settings)
    charged = await charge(request, viewer, points, "this export")
    if isinstance(charged, Response):
        return charged
    slug = _UNSAFE_FILENAME.sub("-", org.slug)
    name = f"audit_{slug}.{export_format.value}"
    return StreamingResponse(
        _stream(encoder, export.chunks),
        media_type=export_format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **charged.headers},
    )


class ExportTooLarge(Exception):
    """A usage export predicted to cost more than AIZE_MAX_EXPORT_COST."""

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(
            f"The export would cost {cost} points; at most {limit} are allowed per export. "
            "Ask for a shorter period, a coarser granularity or fewer series (limit)."
        )
        self.cost = cost
        self.limit = limit


def _check_cost(
    request: Request, kind: UsageExportKind, params: ExportParams, log_filter: LogFilter
) -> None:
    settings: Settings = request.app.state.settings
    cost = predicted_export_cost(kind, params, log_filter).points
    if cost > settings.max_export_cost:
        raise ExportTooLarge(cost, settings.max_export_cost)


_REFUSALS = (BadUserInputError, BadInputError, ForbiddenError, ExportTooLarge)
# Rows encoded between two turns of the event loop (a few milliseconds of CSV writing).
ENCODED_ROWS_PER_TURN = 500


async def _charge(
    request: Request,
    viewer: Viewer,
    kind: ExportKind,
    params: ExportParams,
    log_filter: LogFilter,
) -> Charged | Response:
    """The export's charge taken from the viewer's budgets, or the 429 refusing it."""
    settings: Settings = request.app.state.settings
    points = export_charge(kind, params, log_filter, settings)
    return await charge(request, viewer, points, "this export")


def _with_headers(response: Response, charged: Charged) -> Response:
    response.headers.update(charged.headers)
    return response


def _refusal_points(request: Request, exc: Exception) -> int:
    """What a refused export costs: an export refused as too large took the prediction's
    work and costs what the costliest query allowed costs (AIZE_MAX_QUERY_COST), as a query
    refused as too complex does; a bad parameter costs 1 point."""
    if isinstance(exc, ExportTooLarge):
        settings: Settings = request.app.state.settings
        return settings.max_query_cost
    return REFUSED_REQUEST_COST


def _refusal(exc: Exception) -> Response:
    if isinstance(exc, ExportTooLarge):
        return error_response(
            400, ErrorCode.QUERY_TOO_COMPLEX, str(exc), cost=exc.cost, limit=exc.limit
        )
    if isinstance(exc, ForbiddenError):
        return error_response(403, ErrorCode.FORBIDDEN, str(exc))
    if isinstance(exc, BadUserInputError):
        return error_response(400, ErrorCode.BAD_USER_INPUT, exc.message)
    return error_response(400, ErrorCode.BAD_USER_INPUT, str(exc))


def _format(request: Request) -> ExportFormat:
    try:
        return ExportFormat.parse(str(request.path_params["format"]))
    except ValueError as exc:
        raise BadUserInputError(str(exc)) from None


async def _resolve(viewer: Viewer, params: ExportParams) -> tuple[Organization, Scope, LogFilter]:
    org = await Organization.get(id=viewer.organization_id)
    scope = Scope.for_viewer(viewer)
    return org, scope, to_log_filter(usage_filter(params), org)


async def _stream(encoder: RowEncoder, chunks: AsyncIterator[list[Row]]) -> AsyncIterator[bytes]:
    yield encoder.header()
    try:
        async for rows in chunks:
            yield encoder.encode(rows)
    except Exception:
        # The status line is gone; log with an id and cut the response short.
        log.exception("export failed while streaming (error id %s)", uuid.uuid4().hex[:16])
        raise


def _whole(
    encoder: RowEncoder, export: UsageExport, name: str, deadline: ExportDeadline
) -> Response:
    """The export's rows, encoded and sent a slice at a time (other requests run between
    two slices), cut short at the deadline."""
    return StreamingResponse(
        encode_in_slices(encoder, export.rows, deadline),
        media_type=encoder.format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def encode_in_slices(
    encoder: RowEncoder, rows: list[Row], deadline: ExportDeadline
) -> AsyncIterator[bytes]:
    """The header, then the rows' bytes a slice at a time (the event loop gets a turn
    between two); TimeoutError once the deadline has passed."""
    yield encoder.header()
    async for some_rows in in_slices(rows, ENCODED_ROWS_PER_TURN):
        if deadline.passed():
            # The status line is gone: cut the response short (the client sees it fail).
            log.warning("export cut short after %g s", deadline.seconds)
            raise TimeoutError(f"export longer than {deadline.seconds:g} s")
        yield encoder.encode(some_rows)


def _filename(
    what: str, org: Organization, log_filter: LogFilter, export_format: ExportFormat
) -> str:
    """E.g. request-logs_acme-ai_20240501T000000Z_20240531T000000Z.csv (UTC range)."""
    slug = _UNSAFE_FILENAME.sub("-", org.slug)
    start, end = _stamp(log_filter.time_range.start), _stamp(log_filter.time_range.end)
    return f"{what}_{slug}_{start}_{end}.{export_format.value}"


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y%m%dT%H%M%SZ")
