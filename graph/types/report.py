"""Report type: a stored scheduled report, and Organization.reports (Admins/Owners)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias
from zoneinfo import ZoneInfo

import strawberry

from graph.permissions import TEAM_ONLY
from graph.types.connection import Connection, connection_from_page
from graph.types.enum_values import describe_values
from graph.types.node import Node
from models.global_ids import encode_global_id
from models.report import ReportKind
from reports.delivery import report_paths
from reports.store import ReportRecord, count_reports, report_page
from resolvers.pagination import PageRequest
from resolvers.scope import Scope

ReportKindEnum = strawberry.enum(
    ReportKind,
    name="ReportKind",
    description=(
        "DAILY: usage summary of one local day. WEEKLY: cost report of one ISO week (Monday "
        "to Monday). MONTHLY: spending analysis of one billing period, budget vs actual."
    ),
)

describe_values(
    ReportKindEnum,
    {
        "DAILY": "Yesterday, hour by hour, in the organization's timezone.",
        "WEEKLY": "Last week (Monday to Sunday), day by day.",
        "MONTHLY": "Last calendar month, day by day.",
    },
)


@strawberry.type(
    name="Report",
    description=(
        "A scheduled report, stored once per period. Download its content with a bearer "
        "token (Admins/Owners): GET `htmlUrl` (a page with inline SVG charts) or `csvUrl`."
    ),
)
class ReportType(Node):
    kind: ReportKindEnum = strawberry.field(description="DAILY, WEEKLY or MONTHLY.")  # type: ignore[valid-type]
    period_start: datetime = strawberry.field(description="Start, in the report's timezone.")
    period_end: datetime = strawberry.field(description="End (exclusive).")
    timezone: str = strawberry.field(description="IANA zone the report's periods follow.")
    created_at: datetime = strawberry.field(description="When the report was produced (UTC).")
    html_url: str = strawberry.field(description="Path of the HTML report on this service.")
    csv_url: str = strawberry.field(description="Path of the CSV report on this service.")

    @classmethod
    def from_record(cls, record: ReportRecord) -> ReportType:
        tz = ZoneInfo(record.timezone)
        html_url, csv_url = report_paths(record.id)
        return cls(
            id=strawberry.ID(encode_global_id("Report", record.id)),
            kind=record.kind,
            period_start=record.period.start.astimezone(tz),
            period_end=record.period.end.astimezone(tz),
            timezone=record.timezone,
            created_at=record.created_at,
            html_url=html_url,
            csv_url=csv_url,
        )


ReportConnection: TypeAlias = Connection[ReportType]

REPORTS_DESCRIPTION = (
    "Stored scheduled reports, newest period first. Admins/Owners only. `first`: 1 to 100 "
    "(default 50); `after`: the previous page's `endCursor`; `kinds`: only these kinds. "
    + TEAM_ONLY
)


async def resolve_reports(
    scope: Scope,
    first: int | None,
    after: str | None,
    kinds: Sequence[ReportKind] | None,
) -> ReportConnection:
    """One page of the organization's reports."""
    wanted = None if kinds is None else tuple(ReportKind(k) for k in kinds)
    page = await report_page(scope, PageRequest.parse(first, after), wanted)

    async def count_rows() -> int:
        return await count_reports(scope, wanted)

    return connection_from_page(page, ReportType.from_record, count_rows)
