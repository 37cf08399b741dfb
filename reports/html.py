"""A report as one self-contained HTML page: tables, inline SVG charts, inline CSS.

The page is a Jinja2 template (`templates/report.html.j2`) with autoescaping on, because
labels, names, model aliases and error messages are user-supplied; this module turns the
report's numbers into the text the page shows. The page has no script and loads nothing.
Money is shown exact, as the API gives it ("$0.135"); times are in the report's timezone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined

from models.report import ReportKind
from pricing.money import format_usd
from reports.builder import TOP_ERROR_PATTERNS, ReportData, group_label
from reports.svg_chart import Chart, ChartPoint, bar_chart, line_chart
from resolvers.time_slices import Granularity
from resolvers.usage import UsageGroup
from resolvers.usage_measures import UsageMeasures, growth_percent, percent

_TEMPLATES = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_MICROSECOND = timedelta(microseconds=1)
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Table:
    """Cells as displayed text; `headers` None for a two-column name/value table."""

    headers: Sequence[str] | None
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and its table, or `empty_text` when there is nothing to list."""

    heading: str
    table: Table | None
    empty_text: str = "No requests."


def render_html(data: ReportData) -> str:
    """The report page (UTF-8 text)."""
    budget, budget_status = _budget(data)
    return _TEMPLATES.get_template("report.html.j2").render(
        title=f"{data.organization_name}: {data.title}",
        period=_period_text(data),
        timezone=data.timezone.key,
        generated=_local(data.generated_at, data),
        key_metrics=_key_metrics(data),
        budget=budget,
        budget_status=budget_status,
        charts=_charts(data),
        breakdowns=[
            _top_table("Top models", "Model", data, data.top_models),
            _top_table("Top providers", "Provider", data, data.top_providers),
            _top_table("Top API keys", "API key", data, data.top_api_keys),
            _top_table("Top members", "Member", data, data.top_members),
            _top_table(
                "Top tags (a request with two tags counts in both)", "Tag", data, data.top_tags
            ),
            _status_codes(data),
            _error_patterns(data),
        ],
    )


def usd_text(nanos: int) -> str:
    """ "$0.135", "-$2.50": exact dollars."""
    text = format_usd(nanos)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def _count(value: int) -> str:
    return f"{value:,}"


def _two_places(value: Decimal) -> str:
    """A ratio (percent, milliseconds) rounded half-even to 2 decimals for reading; money is
    never rounded here."""
    return format(value.quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN), "f")


def _percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{_two_places(value)}%"


def _growth(current: int, previous: int) -> str:
    value = growth_percent(current, previous)
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else ''}{_two_places(value)}%"


def _local(instant: datetime, data: ReportData) -> str:
    return instant.astimezone(data.timezone).strftime("%Y-%m-%d %H:%M %Z")


def _period_text(data: ReportData) -> str:
    first = data.period.start.astimezone(data.timezone).date()
    last = (data.period.end - _MICROSECOND).astimezone(data.timezone).date()
    if first == last:
        return first.strftime("%A %d %B %Y")
    return f"{first.strftime('%d %B %Y')} to {last.strftime('%d %B %Y')}"


def _key_metrics(data: ReportData) -> Section:
    now, before = data.totals, data.previous
    average_now, average_before = now.average_cost_nanos(), before.average_cost_nanos()

    def money_row(name: str, current: int, previous: int) -> list[str]:
        return [name, usd_text(current), usd_text(previous), _growth(current, previous)]

    def count_row(name: str, current: int, previous: int) -> list[str]:
        return [name, _count(current), _count(previous), _growth(current, previous)]

    rows = [
        count_row("Requests", now.requests, before.requests),
        count_row("Successful (2xx)", now.successful, before.successful),
        count_row("Failed", now.failed, before.failed),
        [
            "Success rate",
            _percent(now.success_rate_percent()),
            _percent(before.success_rate_percent()),
            "",
        ],
        [
            "Error rate",
            _percent(now.error_rate_percent()),
            _percent(before.error_rate_percent()),
            "",
        ],
        count_row("Input tokens", now.input_tokens, before.input_tokens),
        count_row("Output tokens", now.output_tokens, before.output_tokens),
        count_row("Total tokens", now.total_tokens, before.total_tokens),
        count_row("Cache read tokens", now.cache_read_tokens, before.cache_read_tokens),
        count_row("Cache write tokens", now.cache_write_tokens, before.cache_write_tokens),
        count_row("Reasoning tokens", now.reasoning_tokens, before.reasoning_tokens),
        [
            "Cache hit rate",
            _percent(now.cache_hit_rate_percent()),
            _percent(before.cache_hit_rate_percent()),
            "",
        ],
        money_row("Provider cost", now.provider_cost_nanos, before.provider_cost_nanos),
        money_row("Cache read cost", now.cache_read_cost_nanos, before.cache_read_cost_nanos),
        money_row("Cache write cost", now.cache_write_cost_nanos, before.cache_write_cost_nanos),
        money_row("Reasoning cost", now.reasoning_cost_nanos, before.reasoning_cost_nanos),
        money_row("Caching savings", now.cache_savings_nanos, before.cache_savings_nanos),
        money_row("Markup", now.markup_nanos, before.markup_nanos),
        money_row("Fixed fees", now.fixed_fee_nanos, before.fixed_fee_nanos),
        money_row("Customer cost", now.customer_cost_nanos, before.customer_cost_nanos),
        [
            "Average cost per request",
            "n/a" if average_now is None else usd_text(average_now),
            "n/a" if average_before is None else usd_text(average_before),
            "",
        ],
        [
            "Average latency (ms)",
            _optional(now.average_latency_ms()),
            _optional(before.average_latency_ms()),
            "",
        ],
    ]
    earlier = data.previous_period
    previous = f"Previous period ({_range_text(earlier.start, earlier.end, data)})"
    return Section("Key metrics", Table(["Metric", "This period", previous, "Change"], rows))


def _optional(value: Decimal | None) -> str:
    return "n/a" if value is None else _two_places(value)


def _range_text(start: datetime, end: datetime, data: ReportData) -> str:
    first = start.astimezone(data.timezone).date()
    last = (end - _MICROSECOND).astimezone(data.timezone).date()
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _budget(data: ReportData) -> tuple[Section, str | None]:
    """The budget table and its status (GREEN, YELLOW, RED; None without a budget)."""
    budget = data.budget
    counted = _range_text(budget.counted.start, budget.counted.end, data)
    whole = _range_text(budget.billing_period.start, budget.billing_period.end, data)
    heading = "Budget vs actual" if data.kind is ReportKind.MONTHLY else "Billing period to date"
    rows = [
        ["Billing period", whole],
        ["Counted", counted],
        ["Spend (customer cost)", usd_text(budget.spend_nanos)],
        [
            "Monthly budget",
            "none set" if budget.budget_nanos is None else usd_text(budget.budget_nanos),
        ],
    ]
    status = budget.status
    if budget.budget_nanos is not None:
        rows.append(["Used", "n/a" if budget.percent_used is None else f"{budget.percent_used}%"])
        rows.append(["Remaining", usd_text(budget.budget_nanos - budget.spend_nanos)])
    return Section(heading, Table(None, rows)), None if status is None else status.value


def _charts(data: ReportData) -> list[Chart]:
    label_format = "%H:00" if data.trend.granularity is Granularity.HOUR else "%a %d"
    unit = "hour" if data.trend.granularity is Granularity.HOUR else "day"
    cost = [
        ChartPoint(
            b.start.astimezone(data.timezone).strftime(label_format), b.totals.customer_cost_nanos
        )
        for b in data.trend.buckets
    ]
    requests = [
        ChartPoint(b.start.astimezone(data.timezone).strftime(label_format), b.totals.requests)
        for b in data.trend.buckets
    ]
    return [
        bar_chart(cost, title=f"Customer cost per {unit} (USD)", format_value=usd_text),
        line_chart(requests, title=f"Requests per {unit}", format_value=_count),
    ]


def _group_row(name: str, totals: UsageMeasures) -> list[str]:
    return [
        name,
        _count(totals.requests),
        _count(totals.total_tokens),
        usd_text(totals.customer_cost_nanos),
        _percent(totals.error_rate_percent()),
    ]


def _top_table(heading: str, what: str, data: ReportData, groups: list[UsageGroup]) -> Section:
    if not groups:
        return Section(heading, None)
    rows = [_group_row(group_label(data, g), g.totals) for g in groups]
    headers = [what, "Requests", "Tokens", "Customer cost", "Error rate"]
    return Section(heading, Table(headers, rows))


def _status_codes(data: ReportData) -> Section:
    heading = "Requests by status code"
    if not data.status_codes:
        return Section(heading, None)
    rows = [
        [str(g.key[0]), _count(g.totals.requests), _share(g.totals.requests, data.totals.requests)]
        for g in data.status_codes
    ]
    return Section(heading, Table(["Status", "Requests", "Share"], rows))


def _share(part: int, whole: int) -> str:
    """part / whole as a percentage, rounded half-even to 2 decimals."""
    return _percent(percent(part, whole))


def _error_patterns(data: ReportData) -> Section:
    patterns = data.errors.by_pattern[:TOP_ERROR_PATTERNS]
    if not patterns:
        return Section("Top errors", None, "No failed requests.")
    rows = [
        [
            pattern,
            ", ".join(str(code) for code, _ in sorted(group.status_codes.items())),
            _count(group.count),
            _local(group.last_seen, data),
        ]
        for pattern, group in patterns
    ]
    return Section("Top errors", Table(["Message pattern", "Status", "Failed", "Last seen"], rows))
