"""How many items each list field of the product schema can return, known before it runs.

The query cost (`graph.limits`) multiplies a list's selection by its size, so every list
field of the schema has a rule here (tests/test_limits_cost_sizes.py checks that none is
missing). A size is an upper bound computed from the query alone, never from the data:

- an argument: `first`/`last` of a connection (its `edges`), `limit` of a top-N list or of
  a plain list (API keys, members: 1-1000);
- the trend's buckets, from the usage filter's period (resolved exactly as the resolvers
  resolve it: the request's "now", the organization's or the filter's timezone and billing
  anchor day) and the granularity; a split trend's series, its `limit`;
- a data-independent fact: at most 400 failed status codes (100-599 outside 2xx), the
  top 5 affected keys and models of an error group, at most 100 alert rules and 200 allowed
  models (both enforced on write), one delivery per channel, the token scopes there are;
- the mutation's own input: no more rejected records than records sent;
- the ids `Query.nodes` is asked for (at most MAX_NODE_IDS).

A field under a usage report needs its ancestors' arguments (buckets come from
`usage(filter:)` and `trend(granularity:)`), so the walk carries a `SizeFrame` down.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from graphql import GraphQLScalarType, GraphQLSchema

from admin.alert_rules import MAX_RULES_PER_ORGANIZATION
from admin.report_schedules import MAX_EMAILS
from audit.trail import MAX_CHANGED_FIELDS
from graph.errors import BadUserInputError
from graph.inputs.filters import UsageFilter, to_log_filter
from graph.relay import MAX_NODE_IDS
from models.access_token import Scope as TokenScope
from models.alert_delivery import DeliveryChannel
from models.attribution import MAX_TAGS
from models.organization import Organization
from models.report import ReportKind
from resolvers.error_analysis import TOP_AFFECTED
from resolvers.live_feeds import MAX_LIVE_ROWS
from resolvers.model_aliases import MAX_ALLOWED_MODELS
from resolvers.pagination import MAX_LISTED_ROWS
from resolvers.periods import Period
from resolvers.time_slices import Granularity, bucket_spans
from resolvers.usage import MAX_GROUPS, MAX_TREND_BUCKETS

# 100-599 are the status codes ingest accepts; a failed request's is not 2xx.
FAILED_STATUS_CODES = 500 - 100


@dataclass(frozen=True, slots=True)
class PredictionClock:
    """What resolving a period needs besides the query: the request's "now" (UTC) and the
    viewer's organization (its timezone and billing anchor day; None outside a request,
    when UTC and day 1 are assumed)."""

    now: datetime
    organization: Organization | None = None

    def anchor(self) -> Organization:
        return self.organization or Organization(timezone="UTC", billing_anchor_day=1)


@dataclass(frozen=True, slots=True)
class SizeFrame:
    """What the fields above a selection decided about list sizes below it."""

    # Organization.usage's filter as sent (hashable form), once inside a usage report.
    usage_filter: tuple[tuple[str, Any], ...] | None = None
    buckets: int = 0  # inside a trend: its bucket count
    series: int = 0  # inside a trend: its series count
    records: int = 0  # inside ingestRequestLogs: the records sent
    # Inside a usage report whose filter has a threshold: its aggregates read raw logs.
    raw_scan: bool = False


Arguments = Callable[[str], Any]
"""An argument's value as sent (JSON-like: enums as names, dates as strings, variables
substituted), or its schema default; None when absent."""


class SizeRules:
    """Sizes of the product schema's list fields and the frames their selections get."""

    def __init__(self, schema: GraphQLSchema, clock: PredictionClock) -> None:
        self.schema = schema
        self.clock = clock
        self._buckets: dict[tuple[Any, str], int] = {}

    def frame_for(
        self, type_name: str, field_name: str, arguments: Arguments, frame: SizeFrame
    ) -> SizeFrame:
        """The frame of `type_name.field_name`'s selection."""
        key = f"{type_name}.{field_name}"
        if key == "Organization.usage":
            raw = arguments("filter")
            return SizeFrame(
                usage_filter=_hashable(raw if isinstance(raw, Mapping) else {}),
                raw_scan=has_threshold(raw),
            )
        if key == "UsageReport.trend" and frame.usage_filter is not None:
            buckets = self.trend_buckets(frame.usage_filter, arguments("granularity"))
            split = arguments("splitBy") is not None
            return replace(
                frame, buckets=buckets, series=_limit(arguments("limit")) if split else 0
            )
        if key in ("Mutation.ingestRequestLogs", "Mutation.syncDirectory"):
            records = arguments("records")
            return replace(frame, records=len(records) if isinstance(records, list) else 1)
        return frame

    def list_size(
        self, type_name: str, field_name: str, arguments: Arguments, frame: SizeFrame
    ) -> int | None:
        """Most items `type_name.field_name` returns; None when no rule knows the field
        (connections' `edges` get their page size from the walk)."""
        if type_name == "TrendColumns" or (field_name == "buckets" and type_name in _TRENDS):
            return frame.buckets
        rule = _SIZES.get(f"{type_name}.{field_name}")
        if rule is None:
            return None
        if isinstance(rule, Limit):
            return _limit(arguments("limit"), rule.maximum)
        if rule == "series":
            return frame.series
        if rule == "records":
            return frame.records
        if rule == "ids":
            return _id_count(arguments("ids"))
        return int(rule)

    def trend_buckets(self, usage_filter: tuple[tuple[str, Any], ...], granularity: Any) -> int:
        """Buckets the trend will have: 0 when the filter or granularity will be refused."""
        name = _enum_name(granularity) or Granularity.DAY.name
        key = (usage_filter, name)
        if key not in self._buckets:
            self._buckets[key] = self._count_buckets(dict(usage_filter), name)
        return self._buckets[key]

    def _count_buckets(self, raw: dict[str, Any], granularity: str) -> int:
        try:
            usage_filter = UsageFilter(
                period=_period(raw.get("period")),
                from_=self._datetime(raw.get("from")),
                to=self._datetime(raw.get("to")),
                timezone=raw.get("timezone"),
            )
            # The resolvers' own conversion: same now, timezone and anchor day.
            log_filter = to_log_filter(usage_filter, self.clock.anchor(), self.clock.now)
            spans = bucket_spans(
                log_filter.time_range,
                Granularity[granularity],
                log_filter.timezone,
                max_buckets=MAX_TREND_BUCKETS,
            )
        except (BadUserInputError, ValueError, KeyError, TypeError):
            return 0  # the field will be refused: nothing below it is returned
        return len(spans)

    def _datetime(self, raw: Any) -> datetime | None:
        if raw is None:
            return None
        scalar = self.schema.get_type("DateTime")
        if not isinstance(scalar, GraphQLScalarType):
            raise TypeError("no DateTime scalar")
        parsed = scalar.parse_value(raw)
        if not isinstance(parsed, datetime):
            raise TypeError("not a datetime")
        return parsed


@dataclass(frozen=True, slots=True)
class Limit:
    """The field's `limit` argument; above `maximum` (or below 1) the field is refused."""

    maximum: int = MAX_GROUPS


# Limit: the `limit` argument; "series": the trend's series count; "records": the records
# sent; "ids": the ids named (Query.nodes); a number: a fixed bound.
_SIZES: Mapping[str, Limit | str | int] = {
    "UsageReport.breakdown": Limit(),
    "UsageErrors.byPattern": Limit(),
    "UsageErrors.byStatusCode": Limit(),
    "LatencyReport.groups": Limit(),
    "UsageSummary.modelsUsed": Limit(),
    "Organization.apiKeys": Limit(MAX_LISTED_ROWS),
    "Organization.members": Limit(MAX_LISTED_ROWS),
    "Organization.pricingHistory": Limit(MAX_LISTED_ROWS),
    "UsageTrend.series": "series",
    "IngestResult.rejected": "records",
    "DirectorySyncResult.rejected": "records",
    "Organization.reportSchedules": len(ReportKind),
    "ReportSchedule.emails": MAX_EMAILS,
    "AuditEntry.changes": MAX_CHANGED_FIELDS,
    "ErrorPatternGroup.statusCodes": FAILED_STATUS_CODES,
    **{
        f"{group}.{field}": TOP_AFFECTED
        for group in ("ErrorGroup", "ErrorStatusGroup", "ErrorPatternGroup")
        for field in ("topApiKeys", "topModels")
    },
    "Organization.alertRules": MAX_RULES_PER_ORGANIZATION,
    "ApiKey.allowedModels": MAX_ALLOWED_MODELS,
    "RequestLog.tags": MAX_TAGS,
    "AlertEvent.deliveries": len(DeliveryChannel),
    "Viewer.scopes": len(TokenScope),
    # Subscriptions: one message carries at most this many (resolvers/live_feeds.py).
    "LiveRequestLogs.logs": MAX_LIVE_ROWS,
    "LiveAlerts.alerts": MAX_LIVE_ROWS,
    "Query.nodes": "ids",
}
_TRENDS = ("UsageTrend", "TrendSeries")


# UsageFilter fields no rollup keeps: a usage question using one scans raw request logs.
THRESHOLD_ARGUMENTS = ("minLatencyMs", "maxLatencyMs", "minCustomerCost", "minTotalTokens")
# Fields that read raw logs when their own `filter` has a threshold (or, for request logs,
# a `search` is given).
_OWN_FILTER_SCANS = ("Organization.requestLogs", "ApiKey.usage", "Member.usage")


def has_threshold(usage_filter: Any) -> bool:
    """Whether a UsageFilter as sent sets a threshold (latency, cost or tokens)."""
    return isinstance(usage_filter, Mapping) and any(
        usage_filter.get(name) is not None for name in THRESHOLD_ARGUMENTS
    )


def scans_raw_rows(key: str, arguments: Arguments, inside_raw_report: bool) -> bool:
    """Whether the field `key` ("Type.field") must scan raw request logs: a usage field
    whose filter (its own, or its usage report's: `inside_raw_report`) has a threshold, or
    request logs searched or filtered by a threshold."""
    if key in _OWN_FILTER_SCANS:
        if has_threshold(arguments("filter")):
            return True
        search = arguments("search") if key == "Organization.requestLogs" else None
        return isinstance(search, str) and bool(search.strip())
    return inside_raw_report and key.startswith("UsageReport.")


def _limit(raw: Any, maximum: int = MAX_GROUPS) -> int:
    # Outside 1..maximum the resolver refuses the field: nothing is returned.
    return raw if isinstance(raw, int) and 1 <= raw <= maximum else 0


def _id_count(raw: Any) -> int:
    # A single id is coerced to a list of one; above MAX_NODE_IDS the field is refused.
    count = len(raw) if isinstance(raw, list) else 1
    return count if count <= MAX_NODE_IDS else 0


def _enum_name(raw: Any) -> str | None:
    if isinstance(raw, enum.Enum):
        return raw.name
    return raw if isinstance(raw, str) else None


def _period(raw: Any) -> Period | None:
    name = _enum_name(raw)
    return None if name is None else Period[name]


def _hashable(raw: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The filter's period arguments, hashable (the other filter arguments change no size);
    a value of the wrong type is kept as its repr, which no period parses."""
    keys = ("period", "from", "to", "timezone")
    return tuple((key, _scalar(raw[key])) for key in keys if key in raw)


def _scalar(raw: Any) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return _enum_name(raw) or repr(raw)
