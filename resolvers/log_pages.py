"""Request log pages: in any order of `resolvers.log_order` (newest first by default),
keyset-paginated, through the scope, optionally searched (`resolvers.log_search`).

A page is one statement: the keyset query (ORDER BY the order's column and id, LIMIT
size + 1, on an index that leads with the organization) returns the page's rows with every column
the API shows, read into plain `LogRecord`s (no ORM objects: a page of 50 built through the
ORM cost more than the query itself). The time range in the same statement lets PostgreSQL
prune the monthly partitions. When the caller shows each log's key or member, the same
statement joins them, limited by the scope as `api_keys_by_ids` and `members_by_ids` limit
them (a key or member the viewer may not see comes back as None). The count of all matching
rows is a separate query, run only when a client asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import orjson

from models.api_key import KeyStatus
from models.attribution import stored_tags
from models.database import (
    Dialect,
    Params,
    current_dialect,
    fetch_all,
    fetch_rows,
    parse_db_datetime,
)
from models.member import Role
from models.request_log_columns import CLASS_COLUMNS, LOG_ROW, ROW_NAMES, Shown
from resolvers.errors import BadInputError
from resolvers.log_order import NEWEST_FIRST, LogOrder, LogPosition
from resolvers.log_search import search_condition
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from resolvers.scope import LogFilter, Scope, scoped_conditions

RecordT = TypeVar("RecordT")

# What a page reads of each log: its id and every column ingest writes.
PAGE_COLUMNS = ("id", *ROW_NAMES)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as a page shows it (the `ApiKey` attributes of the same names)."""

    id: int
    label: str
    prefix: str
    status: KeyStatus
    status_reason: str | None
    allowed_models: list[str] | None
    created_at: datetime
    owner_id: int | None
    monthly_limit_nanos: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str) -> KeyRecord:
        models = row[prefix + "allowed_models"]
        return cls(
            id=row[prefix + "id"],
            label=row[prefix + "label"],
            prefix=row[prefix + "prefix"],
            status=KeyStatus(row[prefix + "status"]),
            status_reason=row[prefix + "status_reason"],
            allowed_models=orjson.loads(models) if isinstance(models, str | bytes) else models,
            created_at=parse_db_datetime(row[prefix + "created_at"]),
            owner_id=row[prefix + "owner_id"],
            monthly_limit_nanos=row[prefix + "monthly_limit_nanos"],
        )


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member as a page shows them (the `Member` attributes of the same names)."""

    id: int
    name: str
    email: str
    role: Role
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str) -> MemberRecord:
        return cls(
            id=row[prefix + "id"],
            name=row[prefix + "name"],
            email=row[prefix + "email"],
            role=Role(row[prefix + "role"]),
            created_at=parse_db_datetime(row[prefix + "created_at"]),
        )


_KEY_COLUMNS = tuple(KeyRecord.__dataclass_fields__)
_MEMBER_COLUMNS = tuple(MemberRecord.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class LogPageRequest:
    """A validated page of logs to read: how many rows, in which order, after which position
    of that order (None: from the start), or, paging backwards, the rows just before
    `before` (None: the last rows of the order); and the search text if any."""

    size: int
    order: LogOrder = NEWEST_FIRST
    after: LogPosition | None = None
    search: str | None = None
    backward: bool = False
    before: LogPosition | None = None

    @classmethod
    def parse(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        *,
        order: LogOrder = NEWEST_FIRST,
        search: str | None = None,
    ) -> LogPageRequest:
        """A forward page (`first`/`after`) or a backward one (`last`/`before`), its cursors
        decoded for `order`; BadInputError naming the argument for a size outside 1-100, a
        cursor of another order, or both directions at once."""
        if last is None and not before:
            size = DEFAULT_PAGE_SIZE if first is None else first
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise BadInputError(f"first: must be between 1 and {MAX_PAGE_SIZE}, got {size}")
            return cls(size, order, order.decode(after) if after else None, search)
        if first is not None or after:
            raise BadInputError(
                "first/after page forwards and last/before backwards: give one pair, not both"
            )
        size = DEFAULT_PAGE_SIZE if last is None else last
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise BadInputError(f"last: must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        position = order.decode(before, "before") if before else None
        return cls(size, order, None, search, backward=True, before=position)


@dataclass(slots=True)
class LogPage:
    """A page of logs and, when asked for, the keys and members its rows use (by id; None
    for one the viewer may not see)."""

    page: Page[LogRecord]
    api_keys: dict[int, KeyRecord | None] | None = None
    members: dict[int, MemberRecord | None] | None = None


@dataclass(slots=True)
class LogRecord:
    """One request log as a page reads it: its id, then every column LOG_ROW shows
    (models/request_log_columns.py), in that order (tests/test_request_log_columns.py)."""

    id: int
    request_id: UUID
    timestamp: datetime  # aware, UTC
    api_key_id: int
    member_id: int | None
    model: str
    provider_model: str
    provider: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    provider_cost_nanos: int
    markup_nanos: int
    fixed_fee_nanos: int
    customer_cost_nanos: int
    priced: bool
    latency_ms: int
    status_code: int
    error_message: str | None
    metadata: Any
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int
    request_units: int
    input_cost_nanos: int
    cache_read_cost_nanos: int
    cache_write_cost_nanos: int
    output_cost_nanos: int
    reasoning_cost_nanos: int
    request_cost_nanos: int
    cache_savings_nanos: int
    tags: tuple[str, ...]
    end_user: str | None
    request_body: str | None
    response_body: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LogRecord:
        """From a row as either driver returns it (SQLite: text uuid, timestamp and JSON,
        integer booleans; PostgreSQL through asyncpg: jsonb as text)."""
        values = [row[name] for name in RECORD_COLUMNS]
        for index, read in _CONVERSIONS:
            values[index] = read(values[index])
        return cls(int(row["id"]), *values)


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _json(value: object) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


# The columns a LogRecord holds after its id: every one LOG_ROW shows, in its order.
_RECORD_ROW = tuple(column for column in LOG_ROW if column.shown is not Shown.HIDDEN)
RECORD_COLUMNS = tuple(column.name for column in _RECORD_ROW)
# How LogRecord.from_row converts a column from what the driver returns, by how the column
# is shown; the others are kept as read.
_READERS: dict[Shown, Callable[[Any], Any]] = {
    Shown.UUID: _uuid,
    Shown.INSTANT: parse_db_datetime,
    Shown.FLAG: bool,
    Shown.JSON: _json,
    Shown.TAGS: stored_tags,
}
_CONVERSIONS: tuple[tuple[int, Callable[[Any], Any]], ...] = (
    *(
        (i, _READERS[column.shown])
        for i, column in enumerate(_RECORD_ROW)
        if column.shown in _READERS
    ),
    # The token and cost classes (added by migration 0017) are read through int.
    *((RECORD_COLUMNS.index(name), int) for name in CLASS_COLUMNS),
)


def log_conditions(
    scope: Scope, log_filter: LogFilter, search: str | None, params: Params
) -> list[str]:
    """The scope's, the filter's and the search's conditions on request_log."""
    conditions = scoped_conditions(scope, log_filter, params)
    if search is not None:
        conditions.append(search_condition(search, params))
    return conditions


def page_query(
    scope: Scope,
    log_filter: LogFilter,
    request: LogPageRequest,
    dialect: Dialect,
    *,
    with_keys: bool = False,
    with_members: bool = False,
) -> tuple[str, Params]:
    """The keyset SQL selecting one page's rows (PAGE_COLUMNS, then each key's and member's
    columns prefixed `k_` and `m_` when asked for), plus its parameters.

    Raises ForbiddenError when the filter reaches outside the scope.
    """
    params = Params(dialect)
    conditions = log_conditions(scope, log_filter, request.search, params)
    order = request.order
    if request.after is not None:
        conditions.append(order.after(request.after, params))
    if request.before is not None:
        conditions.append(order.before(request.before, params))
    # A backward page reads from its cursor towards the start (then turned around).
    scan = order.reversed() if request.backward else order
    sql = (
        f"SELECT {', '.join(PAGE_COLUMNS)} FROM request_log WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY {scan.order_by()} LIMIT {params.add(request.size + 1)}"
    )
    if not (with_keys or with_members):
        return sql, params
    # The page first (its plan unchanged), then at most a key and a member per row.
    columns = [f"p.{column}" for column in PAGE_COLUMNS]
    joins = []
    if with_keys:
        columns += [f'k."{c}" AS "k_{c}"' for c in _KEY_COLUMNS]
        on = scope.api_key_conditions(params, include_team_keys=True, alias="k")
        joins.append(f"LEFT JOIN api_key AS k ON k.id = p.api_key_id AND {' AND '.join(on)}")
    if with_members:
        columns += [f'm."{c}" AS "m_{c}"' for c in _MEMBER_COLUMNS]
        on = scope.member_conditions(params, alias="m")
        joins.append(f"LEFT JOIN member AS m ON m.id = p.member_id AND {' AND '.join(on)}")
    joined = (
        f"SELECT {', '.join(columns)} FROM ({sql}) AS p {' '.join(joins)} "
        f"ORDER BY {scan.order_by('p')}"
    )
    return joined, params


async def request_log_page(
    scope: Scope,
    log_filter: LogFilter,
    request: LogPageRequest,
    *,
    with_keys: bool = False,
    with_members: bool = False,
) -> LogPage:
    """One page of the viewer's request logs matching the filter and search, in the
    request's order, with its rows' keys and members when asked for."""
    sql, params = page_query(
        scope,
        log_filter,
        request,
        current_dialect(),
        with_keys=with_keys,
        with_members=with_members,
    )
    rows = await fetch_rows(sql, params, may_lag=True)
    logs = [LogRecord.from_row(row) for row in rows]
    kept = logs[: request.size]
    more = len(logs) > request.size
    if request.backward:
        kept.reverse()
    # The cursor keeps the sort value exactly as the keyset query compared it.
    page = Page(
        rows=kept,
        cursors=[request.order.encode(position_of(log, request.order)) for log in kept],
        has_next_page=request.before is not None if request.backward else more,
        has_previous_page=more if request.backward else request.after is not None,
    )
    shown = rows[: len(page.rows)]
    return LogPage(
        page,
        _joined(KeyRecord.from_row, shown, "api_key_id", "k_") if with_keys else None,
        _joined(MemberRecord.from_row, shown, "member_id", "m_") if with_members else None,
    )


def position_of(log: LogRecord, order: LogOrder) -> LogPosition:
    """The log's place in `order`: its sort column's value and id."""
    value: datetime | int = getattr(log, order.field.column)
    return LogPosition(value, log.id)


def _joined(
    build: Callable[[Mapping[str, Any], str], RecordT],
    rows: Sequence[Mapping[str, Any]],
    reference: str,
    prefix: str,
) -> dict[int, RecordT | None]:
    """One record per id the rows refer to, from its joined columns (None when the join
    found none the scope allows)."""
    found: dict[int, RecordT | None] = {}
    for row in rows:
        pk = row[reference]
        if pk is not None and pk not in found:
            found[pk] = build(row, prefix) if row[prefix + "id"] is not None else None
    return found


async def count_request_logs(scope: Scope, log_filter: LogFilter, search: str | None = None) -> int:
    """How many of the viewer's request logs match the filter and search (all pages)."""
    params = Params(current_dialect())
    conditions = log_conditions(scope, log_filter, search, params)
    rows = await fetch_all(
        "SELECT COUNT(*) AS total FROM request_log WHERE " + " AND ".join(conditions),
        params,
        may_lag=True,
    )
    return int(rows[0]["total"])
