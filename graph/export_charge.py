"""What an export is charged to its token's and organization's budgets, before it runs."""

from __future__ import annotations

from enum import StrEnum

from graph.export_params import ExportParams
from resolvers.scope import LogFilter
from settings import Settings


class ExportKind(StrEnum):
    REQUEST_LOGS = "request-logs"
    USAGE_TREND = "usage-trend"
    USAGE_BREAKDOWN = "usage-breakdown"
    AUDIT_TRAIL = "audit"


def export_charge(
    kind: ExportKind, params: ExportParams, log_filter: LogFilter | None, settings: Settings
) -> int:
    """Points an export costs, decided from its parameters before anything is read.

    For now every export costs as much as the costliest query allowed (AIZE_MAX_QUERY_COST):
    an export's size is not predicted yet, and that bounds exports to what the budgets allow
    of the largest queries. A prediction from `kind`, `params` and `log_filter` (None for
    the audit trail, which is not request logs) replaces this body, nothing else.
    """
    del kind, params, log_filter  # what the prediction will read
    return settings.max_query_cost
