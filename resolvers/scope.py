"""The one scope builder every read starts from.

`Scope` says which rows a viewer may see (one organization; for a Member, only rows whose
member is them). `LogFilter` is what the caller asked for. `scoped_conditions` turns both
into SQL conditions that apply equally to raw `request_log` rows and to the rollup tables,
which share the column names. Asking for something the scope excludes raises
ForbiddenError instead of quietly answering with less.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from auth.viewer import Viewer
from models.api_key import ApiKey
from models.audit import AuditEntry
from models.database import Params
from models.member import Member
from models.request_log import RequestLog
from resolvers.attribution_sql import has_all_tags, has_any_tag
from resolvers.errors import ForbiddenError
from resolvers.periods import TimeRange


class StatusClass(Enum):
    SUCCESS = "SUCCESS"  # 2xx
    CLIENT_ERROR = "CLIENT_ERROR"  # 4xx
    SERVER_ERROR = "SERVER_ERROR"  # 5xx

    @property
    def code_range(self) -> tuple[int, int]:
        """Inclusive lower, exclusive upper status code."""
        return {
            StatusClass.SUCCESS: (200, 300),
            StatusClass.CLIENT_ERROR: (400, 500),
            StatusClass.SERVER_ERROR: (500, 600),
        }[self]


@dataclass(frozen=True, slots=True)
class Scope:
    """Rows a viewer may read: their organization, and for a Member only their own."""

    organization_id: int
    # Set for Members: every read is limited to rows whose member_id is this.
    member_id: int | None
    viewer_member_id: int | None
    sees_team: bool

    @classmethod
    def for_viewer(cls, viewer: Viewer) -> Scope:
        if not viewer.can_read:
            raise ForbiddenError("this token cannot read analytics (it is an ingest token)")
        return cls(
            organization_id=viewer.organization_id,
            member_id=None if viewer.sees_team else viewer.member_id,
            viewer_member_id=viewer.member_id,
            sees_team=viewer.sees_team,
        )

    @classmethod
    def for_organization(cls, organization_id: int) -> Scope:
        """The whole organization, as an Admin sees it, for work done on its behalf without
        a viewer (scheduled reports, operator CLI exports)."""
        return cls(
            organization_id=organization_id, member_id=None, viewer_member_id=None, sees_team=True
        )

    def logs(self) -> QuerySet[RequestLog]:
        """Request logs the viewer may read."""
        query = RequestLog.filter(organization_id=self.organization_id)
        if self.member_id is not None:
            query = query.filter(member_id=self.member_id)
        return query

    def members(self) -> QuerySet[Member]:
        """Members the viewer may read: everyone for Admins/Owners, a Member only themselves."""
        query = Member.filter(organization_id=self.organization_id)
        if self.member_id is not None:
            query = query.filter(id=self.member_id)
        return query

    def api_keys(self, *, include_team_keys: bool = False) -> QuerySet[ApiKey]:
        """Keys the viewer may read. A Member lists only their own keys; a team key they
        used is visible when reached through one of their own requests
        (`include_team_keys`)."""
        query = ApiKey.filter(organization_id=self.organization_id)
        if self.member_id is None:
            return query
        if include_team_keys:
            return query.filter(Q(owner_id=self.member_id) | Q(owner_id__isnull=True))
        return query.filter(owner_id=self.member_id)

    def api_key_conditions(
        self, params: Params, *, include_team_keys: bool = False, alias: str = ""
    ) -> list[str]:
        """`api_keys()` as SQL conditions on `api_key` (to AND together), for reads that
        skip the ORM's query builder; columns qualified by `alias` if given."""
        column = f"{alias}." if alias else ""
        conditions = [f"{column}organization_id = {params.add(self.organization_id)}"]
        if self.member_id is not None:
            owner = f"{column}owner_id = {params.add(self.member_id)}"
            if include_team_keys:
                owner = f"({owner} OR {column}owner_id IS NULL)"
            conditions.append(owner)
        return conditions

    def member_conditions(self, params: Params, *, alias: str = "") -> list[str]:
        """`members()` as SQL conditions on `member` (to AND together)."""
        column = f"{alias}." if alias else ""
        conditions = [f"{column}organization_id = {params.add(self.organization_id)}"]
        if self.member_id is not None:
            conditions.append(f"{column}id = {params.add(self.member_id)}")
        return conditions

    def audit_entries(self) -> QuerySet[AuditEntry]:
        """The organization's audit trail; ForbiddenError for a Member (who changed what is
        team information, as the Admin-only settings it records are)."""
        self.require_team("The audit trail")
        return AuditEntry.filter(organization_id=self.organization_id)

    def require_team(self, what: str) -> None:
        """Raise ForbiddenError unless the viewer is an Admin or Owner."""
        if not self.sees_team:
            raise ForbiddenError(f"{what} is available to Admins and Owners only")


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What the caller asked for; None means 'no restriction' for each list."""

    time_range: TimeRange
    timezone: ZoneInfo
    models: tuple[str, ...] | None = None
    api_key_ids: tuple[int, ...] | None = None
    member_ids: tuple[int, ...] | None = None
    status_classes: tuple[StatusClass, ...] | None = None
    status_codes: tuple[int, ...] | None = None
    endpoints: tuple[str, ...] | None = None
    # Provider names, lower-case as stored (ingestion.providers).
    providers: tuple[str, ...] | None = None
    only_mine: bool = False
    provider_models: tuple[str, ...] | None = None
    # Thresholds on one request's own values (inclusive); no rollup keeps them, so a usage
    # question using one reads raw rows (`needs_raw_rows`).
    min_latency_ms: int | None = None
    max_latency_ms: int | None = None
    min_customer_cost_nanos: int | None = None
    min_total_tokens: int | None = None
    # Tags in normal form (ingestion.attribution): requests carrying any / all of them.
    tags_any: tuple[str, ...] | None = None
    tags_all: tuple[str, ...] | None = None
    end_users: tuple[str, ...] | None = None

    @property
    def filters_tags(self) -> bool:
        return self.tags_any is not None or self.tags_all is not None

    @property
    def single_tag(self) -> str | None:
        """The tag when the tag conditions mean exactly "carries this tag" (what one tag
        rollup group holds); None otherwise or without tag conditions."""
        named = {*(self.tags_any or ()), *(self.tags_all or ())}
        if len(named) != 1 or (self.tags_any is not None and len(self.tags_any) != 1):
            return None
        if self.tags_all is not None and len(self.tags_all) != 1:
            return None
        return next(iter(named))

    def with_range(self, time_range: TimeRange) -> LogFilter:
        return replace(self, time_range=time_range)

    @property
    def needs_raw_rows(self) -> bool:
        """True when a threshold is set: only `request_log` rows can answer."""
        return any(
            value is not None
            for value in (
                self.min_latency_ms,
                self.max_latency_ms,
                self.min_customer_cost_nanos,
                self.min_total_tokens,
            )
        )

    @property
    def threshold_columns(self) -> set[str]:
        """The raw columns the thresholds put conditions on (no rollup has them)."""
        columns = set()
        if self.min_latency_ms is not None or self.max_latency_ms is not None:
            columns.add("latency_ms")
        if self.min_customer_cost_nanos is not None:
            columns.add("customer_cost_nanos")
        if self.min_total_tokens is not None:
            columns.add("total_tokens")
        return columns


def check_filter(scope: Scope, log_filter: LogFilter) -> None:
    """Refuse filters that reach outside the scope (a Member naming other members)."""
    if scope.member_id is not None and log_filter.member_ids is not None:
        others = [m for m in log_filter.member_ids if m != scope.member_id]
        if others:
            raise ForbiddenError("Members can only see their own usage; memberIds names others")


def scoped_conditions(
    scope: Scope,
    log_filter: LogFilter | None,
    params: Params,
    *,
    alias: str = "",
    time_column: str | None = "timestamp",
    tag_rows: bool = False,
) -> list[str]:
    """SQL conditions (to AND together) for the scope and filter.

    `time_column` None leaves the time range to the caller (rollup reads split the
    range into grains themselves). `tag_rows`: the rows are the tag rollup's (one per tag,
    column `tag`), which can answer only a filter meaning one tag (`LogFilter.single_tag`);
    otherwise tag conditions read request_log's `tags` array.
    """
    prefix = f"{alias}." if alias else ""
    conditions = [f"{prefix}organization_id = {params.add(scope.organization_id)}"]
    member = scope.member_id
    if member is None and log_filter is not None and log_filter.only_mine:
        member = scope.viewer_member_id
    if member is not None:
        conditions.append(f"{prefix}member_id = {params.add(member)}")
    if log_filter is None:
        return conditions
    check_filter(scope, log_filter)
    if time_column is not None:
        conditions.append(f"{prefix}{time_column} >= {params.add(log_filter.time_range.start)}")
        conditions.append(f"{prefix}{time_column} < {params.add(log_filter.time_range.end)}")
    conditions.extend(_list_conditions(log_filter, params, prefix))
    conditions.extend(_attribution_conditions(log_filter, params, prefix, tag_rows))
    return conditions


def _attribution_conditions(
    log_filter: LogFilter, params: Params, prefix: str, tag_rows: bool
) -> list[str]:
    conditions: list[str] = []
    if log_filter.end_users is not None:
        conditions.append(in_list(f"{prefix}end_user", log_filter.end_users, params))
    if not log_filter.filters_tags:
        return conditions
    if tag_rows:
        tag = log_filter.single_tag
        if tag is None:
            raise ValueError("the tag rollup answers only a filter naming one tag")
        conditions.append(f"{prefix}tag = {params.add(tag)}")
        return conditions
    if log_filter.tags_any is not None:
        conditions.append(has_any_tag(f"{prefix}tags", log_filter.tags_any, params))
    if log_filter.tags_all is not None:
        conditions.append(has_all_tags(f"{prefix}tags", log_filter.tags_all, params))
    return conditions


def _list_conditions(log_filter: LogFilter, params: Params, prefix: str) -> list[str]:
    conditions: list[str] = []
    if log_filter.models is not None:
        conditions.append(in_list(f"{prefix}model", log_filter.models, params))
    if log_filter.api_key_ids is not None:
        conditions.append(in_list(f"{prefix}api_key_id", log_filter.api_key_ids, params))
    if log_filter.member_ids is not None:
        conditions.append(in_list(f"{prefix}member_id", log_filter.member_ids, params))
    if log_filter.status_codes is not None:
        conditions.append(in_list(f"{prefix}status_code", log_filter.status_codes, params))
    if log_filter.endpoints is not None:
        conditions.append(in_list(f"{prefix}endpoint", log_filter.endpoints, params))
    if log_filter.providers is not None:
        conditions.append(in_list(f"{prefix}provider", log_filter.providers, params))
    if log_filter.provider_models is not None:
        conditions.append(in_list(f"{prefix}provider_model", log_filter.provider_models, params))
    conditions.extend(_threshold_conditions(log_filter, params, prefix))
    if log_filter.status_classes is not None:
        column = f"{prefix}status_code"
        ranges = [
            f"({column} >= {params.add(low)} AND {column} < {params.add(high)})"
            for low, high in (c.code_range for c in log_filter.status_classes)
        ]
        conditions.append("(" + " OR ".join(ranges) + ")" if ranges else "1 = 0")
    return conditions


def _threshold_conditions(log_filter: LogFilter, params: Params, prefix: str) -> list[str]:
    """Inclusive bounds on a request's own latency (ms), customer cost (nano-USD) and total
    tokens: conditions on `request_log` columns only (readers of rollups go raw first)."""
    bounds = (
        ("latency_ms", ">=", log_filter.min_latency_ms),
        ("latency_ms", "<=", log_filter.max_latency_ms),
        ("customer_cost_nanos", ">=", log_filter.min_customer_cost_nanos),
        ("total_tokens", ">=", log_filter.min_total_tokens),
    )
    return [
        f"{prefix}{column} {operator} {params.add(value)}"
        for column, operator, value in bounds
        if value is not None
    ]


def in_list(column: str, values: tuple[object, ...], params: Params) -> str:
    """`column IN (...)` for the values. An empty tuple is an explicit "none of these": it
    matches no row rather than every row."""
    if not values:
        return "1 = 0"
    return f"{column} IN ({params.add_list(values)})"
