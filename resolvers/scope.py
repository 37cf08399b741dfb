"""The one scope builder every read starts from.

`Scope` says which rows a viewer may see (one organization; for a Member, only rows whose
member is them): each rule is defined once (`Scope.rules`, `Rule`) and read either as a
QuerySet (`Scope.filter`) or as SQL conditions with bound parameters (`Scope.where`).
Every tenant condition in the code base comes from here (tests/test_scope_single_source.py
enforces it). `LogFilter` is what the caller asked for. `scoped_conditions` turns both
into SQL conditions that apply equally to raw `request_log` rows and to the rollup tables,
which share the column names. Asking for something the scope excludes raises
ForbiddenError instead of quietly answering with less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model
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

ModelT = TypeVar("ModelT", bound=Model)


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


TENANT_COLUMN = "organization_id"


@dataclass(frozen=True, slots=True)
class Rule:
    """One condition of a scope: `column` equals `value` (with `or_null`, or is NULL).

    The single definition both forms are derived from: `q()` for a Tortoise QuerySet,
    `sql()` for statements built by hand (the value bound as a parameter, never formatted
    into the text)."""

    column: str
    value: int
    or_null: bool = False

    def q(self) -> Q:
        equal: dict[str, Any] = {self.column: self.value}
        if not self.or_null:
            return Q(**equal)
        null: dict[str, Any] = {f"{self.column}__isnull": True}
        return Q(**equal) | Q(**null)

    def sql(self, params: Params, alias: str = "") -> str:
        column = f"{alias}.{self.column}" if alias else self.column
        condition = f"{column} = {params.add(self.value)}"
        return f"({condition} OR {column} IS NULL)" if self.or_null else condition


@dataclass(frozen=True, slots=True)
class Rows:
    """A kind of tenant row, and the column by which a Member sees only their own.

    `member_column` None: the role rule does not limit these rows (every role of the
    organization reads them, or they are team-only and the reader calls `require_team`).
    `team_rows_too`: rows without an owner (NULL) pass a Member's rule as well."""

    member_column: str | None
    team_rows_too: bool = False


# The role table ("Who sees what", DESIGN.md) as rules: one line per kind of row.
LOG_ROWS = Rows("member_id")  # request_log and the rollups (same column names)
MEMBER_ROWS = Rows("id")  # member: a Member sees themselves
KEY_ROWS = Rows("owner_id")  # api_key: a Member lists their own keys
KEY_ROWS_WITH_TEAM_KEYS = Rows("owner_id", team_rows_too=True)  # reached through a request
ORGANIZATION_ROWS = Rows(None)  # tenant rule only


@dataclass(frozen=True, slots=True)
class Scope:
    """Rows a viewer may read: their organization, and for a Member only their own.

    Every tenant and role condition of a read comes from here: `rules()` is the one
    definition, `filter()` / `where()` its QuerySet and SQL forms. Work done for an
    organization without a viewer (the gateway's key checks, scheduled reports, the alert
    worker, operator exports) takes `for_organization`: the system actor of one
    organization, which sees it as an Admin does."""

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
        """The system actor of one organization: the whole organization, as an Admin sees
        it, for work done on its behalf without a viewer (ingest-key requests, scheduled
        reports, the alert worker, operator CLI exports)."""
        return cls(
            organization_id=organization_id, member_id=None, viewer_member_id=None, sees_team=True
        )

    # The one definition.

    def tenant(self) -> Rule:
        """The tenant rule: the scope's organization (first, so reads use the indexes that
        lead with organization_id)."""
        return Rule(TENANT_COLUMN, self.organization_id)

    def rules(self, rows: Rows, *, member_id: int | None = None) -> tuple[Rule, ...]:
        """The tenant rule, then the role rule for `rows` when the viewer is a Member.
        `member_id` narrows to one member when the scope does not already (`onlyMine`)."""
        member = self.member_id if self.member_id is not None else member_id
        if member is None or rows.member_column is None:
            return (self.tenant(),)
        return (self.tenant(), Rule(rows.member_column, member, rows.team_rows_too))

    # Its two forms.

    def filter(self, model: type[ModelT], rows: Rows = ORGANIZATION_ROWS) -> QuerySet[ModelT]:
        """`model`'s rows the scope allows, as a QuerySet."""
        query = model.all()
        for rule in self.rules(rows):
            query = query.filter(rule.q())
        return query

    def where(
        self,
        params: Params,
        rows: Rows = ORGANIZATION_ROWS,
        *,
        alias: str = "",
        member_id: int | None = None,
    ) -> list[str]:
        """The same rules as SQL conditions to AND together (columns qualified by `alias`)."""
        return [rule.sql(params, alias) for rule in self.rules(rows, member_id=member_id)]

    def team_filter(self, model: type[ModelT], what: str) -> QuerySet[ModelT]:
        """Team-only rows (`require_team`, then the tenant rule) as a QuerySet."""
        self.require_team(what)
        return self.filter(model)

    def team_where(self, params: Params, what: str, *, alias: str = "") -> list[str]:
        """Team-only rows as SQL conditions."""
        self.require_team(what)
        return self.where(params, alias=alias)

    def key_subject_conditions(self, params: Params, column: str) -> list[str]:
        """Conditions on rows about an API key (`column` holds its id) in the scope's
        organization: a Member sees only those about their own keys."""
        conditions = self.where(params)
        if self.member_id is not None:
            keys = " AND ".join(self.where(params, KEY_ROWS))
            conditions.append(f"{column} IN (SELECT id FROM api_key WHERE {keys})")
        return conditions

    # Named reads.

    def logs(self) -> QuerySet[RequestLog]:
        """Request logs the viewer may read."""
        return self.filter(RequestLog, LOG_ROWS)

    def members(self) -> QuerySet[Member]:
        """Members the viewer may read: everyone for Admins/Owners, a Member only themselves."""
        return self.filter(Member, MEMBER_ROWS)

    def api_keys(self, *, include_team_keys: bool = False) -> QuerySet[ApiKey]:
        """Keys the viewer may read. A Member lists only their own keys; a team key they
        used is visible when reached through one of their own requests
        (`include_team_keys`)."""
        return self.filter(ApiKey, KEY_ROWS_WITH_TEAM_KEYS if include_team_keys else KEY_ROWS)

    def api_key_conditions(
        self, params: Params, *, include_team_keys: bool = False, alias: str = ""
    ) -> list[str]:
        """`api_keys()` as SQL conditions on `api_key` (to AND together), for reads that
        skip the ORM's query builder; columns qualified by `alias` if given."""
        rows = KEY_ROWS_WITH_TEAM_KEYS if include_team_keys else KEY_ROWS
        return self.where(params, rows, alias=alias)

    def member_conditions(self, params: Params, *, alias: str = "") -> list[str]:
        """`members()` as SQL conditions on `member` (to AND together)."""
        return self.where(params, MEMBER_ROWS, alias=alias)

    def audit_entries(self) -> QuerySet[AuditEntry]:
        """The organization's audit trail; ForbiddenError for a Member (who changed what is
        team information, as the Admin-only settings it records are)."""
        return self.team_filter(AuditEntry, "The audit trail")

    async def save_fields(self, conn: BaseDBAsyncClient, row: Model, fields: Sequence[str]) -> None:
        """Write `fields` of a loaded row of the scope's organization, by its id and the
        organization. The ORM's `save()` updates by id alone: in Citus a statement for every
        shard (docs/SCALING.md)."""
        if not fields:
            return
        await (
            self.filter(type(row))
            .filter(id=row.pk)
            .using_db(conn)
            .update(**{field: getattr(row, field) for field in fields})
        )

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
    # Tags in normal form (models.attribution): requests carrying any / all of them.
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
    only_mine = log_filter is not None and log_filter.only_mine
    mine = scope.viewer_member_id if only_mine else None
    conditions = scope.where(params, LOG_ROWS, alias=alias, member_id=mine)
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


def organizations_condition(
    organization_ids: Sequence[int], params: Params, alias: str = ""
) -> str:
    """The tenant rule for work done for several organizations at once (the alert worker's
    and the metrics' batches, each organization already chosen by the caller): the
    tenant column IN the list. An empty list matches no row."""
    column = f"{alias}.{TENANT_COLUMN}" if alias else TENANT_COLUMN
    return in_list(column, tuple(organization_ids), params)
