"""The two questions the benchmark asks the service, and their answers as plain values.

- Dashboard: the big organization's last 30 days: totals, the daily trend split by model,
  the top-20 API keys by cost, p50/p95/p99 latency; one GraphQL request.
- Log page: 50 logs with a status-class and a model filter, after a cursor, with each log's
  API key and member; one GraphQL request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

_DASHBOARD = """
query Dashboard($filter: UsageFilter!) {
  organization {
    usage(filter: $filter) {
      totals {
        requests successful failed inputTokens outputTokens totalTokens
        providerCost markup fixedFees customerCost averageLatencyMs
      }
      trend(granularity: DAY, splitBy: MODEL, limit: 12) {
        TREND
      }
      breakdown(by: [API_KEY], orderBy: {field: COST, direction: DESC}, limit: 20) {
        apiKey { label }
        totals { requests customerCost }
      }
      latency { requests averageMs p50Ms p95Ms p99Ms method maxRelativeError }
    }
  }
}
"""
# The trend as a chart takes it: parallel arrays per series (TrendColumns).
DASHBOARD_QUERY = _DASHBOARD.replace(
    "TREND",
    "columns { start requests customerCost } "
    "series { model columns { start requests customerCost } }",
)
# The same answer with one object per bucket (TrendBucket): 12 x 30 objects.
DASHBOARD_QUERY_OBJECTS = _DASHBOARD.replace(
    "TREND",
    "buckets { start totals { requests customerCost } } "
    "series { model buckets { start totals { requests customerCost } } }",
)
LOG_PAGE_QUERY = """
query LogPage($filter: UsageFilter!, $after: String) {
  organization {
    requestLogs(filter: $filter, first: 50, after: $after) {
      edges {
        cursor
        node {
          requestId timestamp model statusCode latencyMs customerCost
          apiKey { label }
          member { name }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
WINDOW = timedelta(days=30)
# The log page's filter: client and server errors of the most used model.
LOG_PAGE_MODEL = "gpt-4o-mini"
LOG_PAGE_STATUS_CLASSES = ("CLIENT_ERROR", "SERVER_ERROR")


@dataclass(frozen=True, slots=True)
class Window:
    """The dashboard's range [start, end) (UTC) and the organization's timezone."""

    start: datetime
    end: datetime
    timezone: str

    @classmethod
    def last_30_days(cls, data_end: datetime, timezone: str) -> Window:
        return cls(data_end - WINDOW, data_end, timezone)

    def usage_filter(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def log_filter(self) -> dict[str, Any]:
        return {
            **self.usage_filter(),
            "models": [LOG_PAGE_MODEL],
            "statusClasses": list(LOG_PAGE_STATUS_CLASSES),
        }


@dataclass(frozen=True, slots=True)
class DashboardAnswer:
    """Exact figures (money as Decimal USD) and the percentiles with their method."""

    totals: dict[str, Decimal]
    # (local date, model) -> (requests, customer cost)
    trend: dict[tuple[str, str], tuple[int, Decimal]]
    # per local date, all models: requests
    trend_totals: dict[str, int]
    # (key label, requests, customer cost), most expensive first
    top_keys: list[tuple[str, int, Decimal]]
    latency_requests: int
    percentiles: dict[int, int]
    latency_method: str
    max_relative_error: Decimal


@dataclass(frozen=True, slots=True)
class LogRow:
    request_id: str
    timestamp: datetime
    model: str
    status_code: int
    latency_ms: int
    customer_cost: Decimal
    api_key_label: str | None
    member_name: str | None


def _local_date(iso: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).date().isoformat()


def parse_dashboard(data: dict[str, Any], timezone: str) -> DashboardAnswer:
    """The GraphQL `data` of DASHBOARD_QUERY as plain values."""
    usage = data["organization"]["usage"]
    tz = ZoneInfo(timezone)
    totals = {
        name: Decimal(str(value)) for name, value in usage["totals"].items() if value is not None
    }
    trend: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for series in usage["trend"]["series"]:
        for start, requests, cost in _buckets(series):
            if requests:
                trend[(_local_date(start, tz), series["model"])] = (requests, cost)
    trend_totals = {
        _local_date(start, tz): requests
        for start, requests, _ in _buckets(usage["trend"])
        if requests
    }
    top_keys = [
        (
            group["apiKey"]["label"],
            int(group["totals"]["requests"]),
            Decimal(group["totals"]["customerCost"]),
        )
        for group in usage["breakdown"]
    ]
    latency = usage["latency"]
    return DashboardAnswer(
        totals=totals,
        trend=trend,
        trend_totals=trend_totals,
        top_keys=top_keys,
        latency_requests=int(latency["requests"]),
        percentiles={p: int(latency[f"p{p}Ms"]) for p in (50, 95, 99)},
        latency_method=str(latency["method"]),
        max_relative_error=Decimal(latency["maxRelativeError"]),
    )


def _buckets(line: dict[str, Any]) -> list[tuple[str, int, Decimal]]:
    """(start, requests, customer cost) per bucket, from either trend shape."""
    if "columns" in line:
        columns = line["columns"]
        return [
            (start, int(requests), Decimal(cost))
            for start, requests, cost in zip(
                columns["start"], columns["requests"], columns["customerCost"], strict=True
            )
        ]
    return [
        (b["start"], int(b["totals"]["requests"]), Decimal(b["totals"]["customerCost"]))
        for b in line["buckets"]
    ]


def parse_log_page(data: dict[str, Any]) -> tuple[list[LogRow], str | None]:
    """The GraphQL `data` of LOG_PAGE_QUERY: the rows and the end cursor."""
    connection = data["organization"]["requestLogs"]
    rows = []
    for edge in connection["edges"]:
        node = edge["node"]
        rows.append(
            LogRow(
                request_id=str(node["requestId"]),
                timestamp=datetime.fromisoformat(node["timestamp"]),
                model=node["model"],
                status_code=int(node["statusCode"]),
                latency_ms=int(node["latencyMs"]),
                customer_cost=Decimal(node["customerCost"]),
                api_key_label=(node["apiKey"] or {}).get("label"),
                member_name=(node["member"] or {}).get("name"),
            )
        )
    return rows, connection["pageInfo"]["endCursor"]
