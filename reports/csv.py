"""A report as one CSV table: one row per figure set, told apart by `section`.

Columns: section, item, itemId, periodStart, periodEnd, periodStartUtc, periodEndUtc, then
every CostSummary figure (as in the usage exports), then budget and percentOfBudget.
Sections, in order:

- `total`: the report period; `previousPeriod`: the period before it;
- `trend`: one row per hour (daily report) or day (weekly, monthly), zero-filled;
- `model`, `provider`, `apiKey`, `member`: the top groups by customer cost (item = alias,
  provider, label or name; itemId = the API's global id for keys and members);
- `statusCode`: requests per status code;
- `errorPattern`: failed requests per message pattern (requests and failed only);
- `budget`: spend in the billing period up to the report's end (customerCost) against the
  monthly budget; item is the status (GREEN, YELLOW, RED) when a budget is set.

Times are RFC 3339 with 6 fractional digits: periodStart/periodEnd the wall clock in the
report's timezone without an offset (an hourly trend across a DST change never mixes offsets
in one column), periodStartUtc/periodEndUtc the instants in UTC; money plain USD decimals; user text
neutralized against formula injection (see exports/csv_safety.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from exports.formats import Column, ExportFormat, Row, RowEncoder, text
from exports.usage import SUMMARY_COLUMNS, summary_cells
from models.global_ids import encode_global_id
from models.timestamps import format_instant, format_wall_time
from pricing.money import format_usd
from reports.builder import TOP_ERROR_PATTERNS, ReportData, group_label
from resolvers.periods import TimeRange
from resolvers.usage import UsageGroup
from resolvers.usage_dimensions import NO_MEMBER, UsageDimension

REPORT_COLUMNS: tuple[Column, ...] = (
    Column("section"),
    text("item"),
    Column("itemId"),
    Column("periodStart"),
    Column("periodEnd"),
    Column("periodStartUtc"),
    Column("periodEndUtc"),
    *SUMMARY_COLUMNS,
    Column("budget"),
    Column("percentOfBudget"),
)
_SUMMARY_NAMES = tuple(column.name for column in SUMMARY_COLUMNS)
_GROUP_SECTIONS = {
    UsageDimension.MODEL: "model",
    UsageDimension.PROVIDER: "provider",
    UsageDimension.API_KEY: "apiKey",
    UsageDimension.MEMBER: "member",
    UsageDimension.TAG: "tag",
}


def render_csv(data: ReportData) -> str:
    """The report's CSV text (header row first, CRLF line ends, no BOM)."""
    encoder = RowEncoder(REPORT_COLUMNS, ExportFormat.CSV)
    return (encoder.header() + encoder.encode(report_rows(data))).decode()


def report_rows(data: ReportData) -> list[Row]:
    """Every row of the report's table, in section order."""
    period = _times(data, data.period)
    rows: list[Row] = [
        _row("total", None, None, period, summary_cells(data.totals)),
        _row(
            "previousPeriod",
            None,
            None,
            _times(data, data.previous_period),
            summary_cells(data.previous),
        ),
    ]
    for bucket in data.trend.buckets:
        bucket_range = TimeRange(bucket.start, bucket.end)
        rows.append(
            _row("trend", None, None, _times(data, bucket_range), summary_cells(bucket.totals))
        )
    for groups in (
        data.top_models,
        data.top_providers,
        data.top_api_keys,
        data.top_members,
        data.top_tags,
    ):
        rows += [_group_row(data, group, period) for group in groups]
    for group in data.status_codes:
        rows.append(
            _row("statusCode", str(group.key[0]), None, period, summary_cells(group.totals))
        )
    for pattern, errors in data.errors.by_pattern[:TOP_ERROR_PATTERNS]:
        cells = _counts_only(errors.count)
        rows.append(_row("errorPattern", pattern, None, period, cells))
    rows.append(_budget_row(data))
    return rows


def _times(data: ReportData, time_range: TimeRange) -> tuple[str, str, str, str]:
    """Start and end as wall-clock times in the report's zone, then as UTC instants."""
    start, end = time_range.start, time_range.end
    return (
        format_wall_time(start, data.timezone),
        format_wall_time(end, data.timezone),
        format_instant(start),
        format_instant(end),
    )


def _row(
    section: str,
    item: str | None,
    item_id: str | None,
    times: tuple[str, str, str, str],
    summary: Sequence[object],
    budget: tuple[str | None, str | None] = (None, None),
) -> Row:
    return [section, item, item_id, *times, *summary, *budget]


def _group_row(data: ReportData, group: UsageGroup, period: tuple[str, str, str, str]) -> Row:
    [dimension] = group.dimensions
    by_id = dimension in (UsageDimension.API_KEY, UsageDimension.MEMBER)
    value = int(group.key[0]) if by_id else 0
    value = int(group.key[0]) if dimension in (UsageDimension.API_KEY, UsageDimension.MEMBER) else 0
    item_id: str | None = None
    if dimension is UsageDimension.API_KEY:
        item_id = encode_global_id("ApiKey", value)
    elif dimension is UsageDimension.MEMBER and value != NO_MEMBER:
        item_id = encode_global_id("Member", value)
    section = _GROUP_SECTIONS[dimension]
    return _row(section, group_label(data, group), item_id, period, summary_cells(group.totals))


def _counts_only(failed: int) -> list[object]:
    """Summary cells holding only `requests` and `failed` (error pattern rows)."""
    cells: list[object] = [None] * len(_SUMMARY_NAMES)
    cells[_SUMMARY_NAMES.index("requests")] = failed
    cells[_SUMMARY_NAMES.index("failed")] = failed
    return cells


def _budget_row(data: ReportData) -> Row:
    budget = data.budget
    cells: list[object] = [None] * len(_SUMMARY_NAMES)
    cells[_SUMMARY_NAMES.index("customerCost")] = format_usd(budget.spend_nanos)
    status = budget.status
    return _row(
        "budget",
        None if status is None else status.value,
        None,
        _times(data, budget.counted),
        cells,
        (
            None if budget.budget_nanos is None else format_usd(budget.budget_nanos),
            budget.percent_used,
        ),
    )
