"""Stored reports: written once per organization, kind and period; read by Admins/Owners.

`store_report` inserts with ON CONFLICT DO NOTHING on the unique (organization, kind,
period_start), so when several replicas (or a replica and a cron job) produce the same
report, exactly one row is stored and exactly one caller is told it stored it; that caller
alone enqueues the delivery, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.database import Params, current_dialect, dialect_of, fetch_all, parse_db_datetime
from models.report import Report, ReportKind
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page, keyset_older_than
from resolvers.periods import TimeRange
from resolvers.scope import Scope

_LIST_COLUMNS = "id, kind, period_start, period_end, timezone, created_at"
# Report ids are 32-bit integers: a larger number names no report (and must not reach SQL).
MAX_REPORT_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A stored report without its content (times aware UTC)."""

    id: int
    kind: ReportKind
    period: TimeRange
    timezone: str
    created_at: datetime

    @property
    def position(self) -> KeysetCursor:
        return KeysetCursor(timestamp=self.period.start, id=self.id)


# Run inside the storing transaction with the new report's id (enqueue its delivery).
OnStored = Callable[[BaseDBAsyncClient, int], Awaitable[None]]


async def store_report(
    organization_id: int,
    kind: ReportKind,
    period: TimeRange,
    timezone: str,
    html: str,
    csv: str,
    on_stored: OnStored | None = None,
) -> int | None:
    """Store the report unless one exists for that organization, kind and period start;
    returns the new id, or None when another producer stored it first."""
    async with in_transaction() as conn:
        params = Params(dialect_of(conn))
        values = (
            organization_id,
            kind.value,
            period.start,
            period.end,
            timezone,
            html,
            csv,
            datetime.now(UTC),
        )
        sql = (
            "INSERT INTO report (organization_id, kind, period_start, period_end, timezone, "
            f"html, csv, created_at) VALUES ({', '.join(params.add(v) for v in values)}) "
            "ON CONFLICT (organization_id, kind, period_start) DO NOTHING RETURNING id"
        )
        rows = await conn.execute_query_dict(sql, params.values)
        if not rows:
            return None
        report_id = int(rows[0]["id"])
        if on_stored is not None:
            await on_stored(conn, report_id)
        return report_id


def _conditions(scope: Scope, kinds: tuple[ReportKind, ...] | None, params: Params) -> list[str]:
    conditions = scope.team_where(params, "Reports")
    if kinds is not None:
        conditions.append(
            f"kind IN ({params.add_list([k.value for k in kinds])})" if kinds else "1 = 0"
        )
    return conditions


async def report_page(
    scope: Scope, request: PageRequest, kinds: tuple[ReportKind, ...] | None = None
) -> Page[ReportRecord]:
    """One page of the organization's reports, newest period first (ties by id).
    ForbiddenError for a Member."""
    params = Params(current_dialect())
    conditions = _conditions(scope, kinds, params)
    if request.after is not None:
        conditions.append(keyset_older_than(request.after, params, time_column="period_start"))
    sql = (
        f"SELECT {_LIST_COLUMNS} FROM report WHERE {' AND '.join(conditions)} "
        f"ORDER BY period_start DESC, id DESC LIMIT {params.add(request.size + 1)}"
    )
    records = [_record(row) for row in await fetch_all(sql, params)]
    return build_page(records, request, lambda record: record.position)


async def count_reports(scope: Scope, kinds: tuple[ReportKind, ...] | None = None) -> int:
    """How many reports the organization has (of `kinds`)."""
    params = Params(current_dialect())
    conditions = _conditions(scope, kinds, params)
    rows = await fetch_all(
        f"SELECT COUNT(*) AS total FROM report WHERE {' AND '.join(conditions)}", params
    )
    return int(rows[0]["total"])


async def report_by_id(scope: Scope, report_id: int) -> Report | None:
    """The report with its content; None when missing, in another organization, or when the
    viewer is a Member (reports are team information)."""
    if not scope.sees_team or not 1 <= report_id <= MAX_REPORT_ID:
        return None
    return await scope.filter(Report).get_or_none(id=report_id)


async def report_record_by_id(scope: Scope, report_id: int) -> ReportRecord | None:
    """As `report_by_id`, without the content."""
    if not scope.sees_team or not 1 <= report_id <= MAX_REPORT_ID:
        return None
    params = Params(current_dialect())
    conditions = [f"id = {params.add(report_id)}", *scope.where(params)]
    rows = await fetch_all(
        f"SELECT {_LIST_COLUMNS} FROM report WHERE {' AND '.join(conditions)}", params
    )
    return _record(rows[0]) if rows else None


def _record(row: dict[str, Any]) -> ReportRecord:
    return ReportRecord(
        id=int(row["id"]),
        kind=ReportKind(row["kind"]),
        period=TimeRange(
            parse_db_datetime(row["period_start"]), parse_db_datetime(row["period_end"])
        ),
        timezone=str(row["timezone"]),
        created_at=parse_db_datetime(row["created_at"]),
    )
