"""Export parameters: query-string (or CLI) values parsed into the API's own inputs, and
the usage exports they ask for.

Filter parameters are the UsageFilter fields, derived from its declaration
(web/export_filter.py: `tagsAny`, `minLatencyMs`, `providerModels`... every field), and
are resolved by the same `to_log_filter`, so an export answers exactly what
`Organization.usage` and `requestLogs` answer for the same filter; the request-log export
also takes `search` (parsed by `requestLogs`' own `parse_search`). A list parameter may be
repeated and each value may hold several items separated by commas; present but empty, it
is an empty list (which matches nothing, as in GraphQL). Every problem raises
BadUserInputError naming the parameter; unknown parameters are refused rather than ignored
(a typo would otherwise export more than was meant), and so are values holding a NUL or an
unpaired surrogate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Literal, TypeVar

import strawberry

from exports.cost import ExportCost, predicted_breakdown_export_cost, predicted_trend_export_cost
from exports.usage import UsageExport, breakdown_export, trend_export
from graph.errors import BadUserInputError
from graph.inputs.audit_filter import AuditTrailFilter
from graph.inputs.text import unstorable_reason
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import BreakdownField, SortDirection
from resolvers.usage_dimensions import UsageDimension, distinct_dimensions
from web.export_filter import (
    FILTER_PARAMETERS,
    boolean,
    enum_member,
    instant,
    whole_number,
)

# The AuditTrailFilter fields, for GET /export/audit.{csv,jsonl}.
AUDIT_PARAMETERS = frozenset(
    {"from", "to", "actions", "actorMemberIds", "subjectType", "subjectId"}
)
# The request-log export also takes `search`, as `requestLogs` does.
LOG_PARAMETERS = FILTER_PARAMETERS | {"search"}
TREND_PARAMETERS = FILTER_PARAMETERS | {"granularity", "splitBy", "limit"}
BREAKDOWN_PARAMETERS = FILTER_PARAMETERS | {"by", "orderBy", "direction", "limit"}
# Series in a split trend unless `limit` says otherwise (as in the API).
DEFAULT_SERIES = 20

EnumT = TypeVar("EnumT", bound=Enum)


class ExportParams:
    """Multi-valued parameters, each name checked against the ones an export accepts."""

    def __init__(self, pairs: Iterable[tuple[str, str]], accepted: Iterable[str]) -> None:
        allowed = frozenset(accepted)
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in allowed:
                choices = ", ".join(sorted(allowed))
                raise BadUserInputError(f"{name}: unknown parameter (accepted: {choices})")
            reason = unstorable_reason(value)
            if reason is not None:
                # The database could not compare such a value (PostgreSQL refuses a NUL):
                # refused here, before a streamed export has begun answering 200.
                raise BadUserInputError(f"{name}: {reason}")
            self._values.setdefault(name, []).append(value)

    def one(self, name: str) -> str | None:
        """The parameter's single value, or None when absent; refused when repeated."""
        values = self._values.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise BadUserInputError(f"{name}: give it once, not {len(values)} times")
        return values[0].strip()

    def many(self, name: str) -> list[str] | None:
        """Every item of a list parameter (repeated and/or comma separated), None when absent."""
        values = self._values.get(name)
        if values is None:
            return None
        return [item.strip() for value in values for item in value.split(",") if item.strip()]

    def flag(self, name: str) -> bool:
        value = self.one(name)
        return False if value is None else boolean(name, value)

    def integer(self, name: str) -> int | None:
        value = self.one(name)
        return None if value is None else whole_number(name, value)

    def choice(self, name: str, enum: type[EnumT]) -> EnumT | None:
        value = self.one(name)
        return None if value is None else enum_member(name, value, enum)

    def choices(self, name: str, enum: type[EnumT]) -> list[EnumT] | None:
        values = self.many(name)
        return None if values is None else [enum_member(name, v, enum) for v in values]

    def instant(self, name: str) -> datetime | None:
        """An ISO 8601 date-time with an offset ("Z" or "+02:00"); naive ones are refused
        later by the filter, with the same message as in GraphQL."""
        value = self.one(name)
        return None if value is None else instant(name, value)

    def text(self, name: str) -> str | None:
        """The parameter's single value exactly as sent (not trimmed), or None when absent;
        refused when repeated."""
        values = self._values.get(name)
        if values is not None and len(values) > 1:
            raise BadUserInputError(f"{name}: give it once, not {len(values)} times")
        return None if values is None else values[0]


def audit_trail_filter(params: ExportParams) -> AuditTrailFilter:
    """The AuditTrailFilter the audit parameters describe (resolve it with
    `to_audit_filter`)."""
    subject_id = params.one("subjectId")
    return AuditTrailFilter(
        from_=params.instant("from"),
        to=params.instant("to"),
        actions=params.many("actions"),
        actor_member_ids=_ids(params.many("actorMemberIds")),
        subject_type=params.one("subjectType") or None,
        subject_id=strawberry.ID(subject_id) if subject_id else None,
    )


def _ids(values: Sequence[str] | None) -> list[strawberry.ID] | None:
    return None if values is None else [strawberry.ID(v) for v in values]


@dataclass(frozen=True, slots=True)
class TrendArguments:
    """A trend export's own parameters: `granularity` (default DAY), `splitBy`, `limit`
    (series, default 20)."""

    granularity: Granularity
    split_by: UsageDimension | None
    limit: int

    @classmethod
    def parse(cls, params: ExportParams) -> TrendArguments:
        limit = params.integer("limit")
        return cls(
            params.choice("granularity", Granularity) or Granularity.DAY,
            params.choice("splitBy", UsageDimension),
            DEFAULT_SERIES if limit is None else limit,
        )


@dataclass(frozen=True, slots=True)
class BreakdownArguments:
    """A breakdown export's own parameters: `by` (required), `orderBy` (default COST),
    `direction` (default DESC), `limit` (default: every group)."""

    dimensions: tuple[UsageDimension, ...]
    order_by: BreakdownField
    direction: SortDirection
    limit: int | None

    @classmethod
    def parse(cls, params: ExportParams) -> BreakdownArguments:
        return cls(
            distinct_dimensions(params.choices("by", UsageDimension) or [], "by"),
            params.choice("orderBy", BreakdownField) or BreakdownField.COST,
            params.choice("direction", SortDirection) or SortDirection.DESC,
            params.integer("limit"),
        )


UsageExportKind = Literal["trend", "breakdown"]


def predicted_export_cost(
    kind: UsageExportKind, params: ExportParams, log_filter: LogFilter
) -> ExportCost:
    """The usage export's size and cost (`ExportCost.points`, query-cost points), from its
    parameters and resolved filter alone, before anything runs (see exports/cost.py).
    Raises BadUserInputError / BadInputError for parameters the export would refuse."""
    if kind == "trend":
        trend = TrendArguments.parse(params)
        cost = predicted_trend_export_cost(
            log_filter, trend.granularity, trend.split_by, trend.limit
        )
    else:
        breakdown = BreakdownArguments.parse(params)
        cost = predicted_breakdown_export_cost(breakdown.dimensions, breakdown.limit)
    # A threshold makes the aggregate scan raw logs, priced as the GraphQL field is.
    return replace(cost, raw_scan=log_filter.needs_raw_rows)


async def trend_export_for(
    scope: Scope, log_filter: LogFilter, params: ExportParams
) -> UsageExport:
    """The trend export the parameters ask for (see TrendArguments)."""
    trend = TrendArguments.parse(params)
    return await trend_export(scope, log_filter, trend.granularity, trend.split_by, trend.limit)


async def breakdown_export_for(
    scope: Scope, log_filter: LogFilter, params: ExportParams
) -> UsageExport:
    """The breakdown export the parameters ask for (see BreakdownArguments)."""
    breakdown = BreakdownArguments.parse(params)
    return await breakdown_export(
        scope,
        log_filter,
        breakdown.dimensions,
        breakdown.order_by,
        breakdown.direction,
        breakdown.limit,
    )
