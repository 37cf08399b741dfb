"""What an export is charged to its token's and organization's budgets, before it runs."""

from __future__ import annotations

from enum import StrEnum

from resolvers.scope import LogFilter
from settings import Settings
from web.export_params import ExportParams, predicted_export_cost


class ExportKind(StrEnum):
    REQUEST_LOGS = "request-logs"
    USAGE_TREND = "usage-trend"
    USAGE_BREAKDOWN = "usage-breakdown"
    AUDIT_TRAIL = "audit"


def export_charge(
    kind: ExportKind, params: ExportParams, log_filter: LogFilter | None, settings: Settings
) -> int:
    """Points an export costs, decided from its parameters before anything is read.

    A usage export (trend, breakdown) costs its predicted cost (exports/cost.py: the same
    points as the GraphQL query answering the same rows), at least 1; the endpoint has
    already refused those above AIZE_MAX_EXPORT_COST. A request-log or audit-trail export
    streams every matching row from the database, a number not known before it runs: it
    costs as much as the costliest query allowed (AIZE_MAX_QUERY_COST), so a token can start
    at most capacity / that many of them per window. `log_filter` is None for the audit
    trail.
    """
    if log_filter is None:
        return settings.max_query_cost
    if kind is ExportKind.USAGE_TREND:
        return max(predicted_export_cost("trend", params, log_filter).points, 1)
    if kind is ExportKind.USAGE_BREAKDOWN:
        return max(predicted_export_cost("breakdown", params, log_filter).points, 1)
    return settings.max_query_cost
