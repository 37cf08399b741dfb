"""The service's Prometheus metrics, defined once for every module that counts something.

prometheus_client keeps them in this process, or, when PROMETHEUS_MULTIPROC_DIR names a
directory at start-up (uvicorn with several workers), in files there that /metrics adds up
across workers (docs/readme/integrations.md). Gauges therefore say how workers combine.

Label values are bounded: routes are the app's own paths, operation names are the ones
`bounded_operation` lets through, codes and outcomes are enums of ours.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Gauge, Histogram

# Seconds; the default buckets stop at 10 s, which is the request timeout anyway.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))

HTTP_REQUESTS = Counter(
    "aize_http_requests",
    "HTTP requests answered, by route, GraphQL operation name and status code.",
    ["route", "operation", "status"],
)
HTTP_LATENCY = Histogram(
    "aize_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, in seconds.",
    ["route", "operation"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "aize_graphql_errors",
    "Errors in GraphQL answers, by extensions.code.",
    ["code"],
)
INGEST_RECORDS = Counter(
    "aize_ingest_records",
    "Ingested request records by outcome: accepted (stored), duplicate, rejected.",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "aize_rate_limit_refusals",
    "Requests refused with 429 because a rate-limit budget was spent, by route.",
    ["route"],
)
ALERT_DELIVERIES = Counter(
    "aize_alert_delivery_attempts",
    "Alert delivery attempts by channel and result: delivered, retrying, failed.",
    ["channel", "result"],
)
DB_POOL_IN_USE = Gauge(
    "aize_db_pool_connections_in_use",
    "PostgreSQL connections handed out by the pool right now (summed over live workers).",
    multiprocess_mode="livesum",
)
DB_POOL_MAX = Gauge(
    "aize_db_pool_connections_max",
    "Most PostgreSQL connections the pool may open (AIZE_DB_POOL_MAX), summed over workers.",
    multiprocess_mode="livesum",
)
# Read replicas (AIZE_DATABASE_READ_URLS): labelled `read_1`, `read_2`... in the order of
# the setting (never by URL: it may hold a password). Each worker checks them itself.
READ_REPLICA_LAG = Gauge(
    "aize_read_replica_lag_seconds",
    "How far behind the primary a read replica was at its last check, in seconds (time it "
    "took to replay what the primary had written; the bound plus one when it did not).",
    ["replica"],
    multiprocess_mode="liveall",
)
READ_REPLICA_UP = Gauge(
    "aize_read_replica_in_use",
    "1 when a read replica takes reads (it answered within the lag bound), else 0.",
    ["replica"],
    multiprocess_mode="liveall",
)
READ_REPLICA_READS = Counter(
    "aize_read_replica_reads",
    "Reads that could go to a replica, by where they went: a replica's label or `primary`.",
    ["target"],
)
# The folder's own count; its lag (pending rows, oldest age) is read from the database at
# scrape time (web/metrics_fold_lag.py).
FOLDED_ROWS = Counter(
    "aize_rollup_folded_rows",
    "Raw rows whose rollups this process's folder folded (ingestion/folding.py).",
)


def count_ingest_outcome(accepted: int, duplicates: int, rejected: int) -> None:
    """Add one ingested batch's record counts (either ingest path)."""
    INGEST_RECORDS.labels(outcome="accepted").inc(accepted)
    INGEST_RECORDS.labels(outcome="duplicate").inc(duplicates)
    INGEST_RECORDS.labels(outcome="rejected").inc(rejected)


# Operation names come from clients: only GraphQL names of a sane length become label
# values, and at most MAX_OPERATION_NAMES distinct ones per process; the rest are "other".
MAX_OPERATION_NAMES = 200
OTHER_OPERATION = "other"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


class OperationLabels:
    """Turns operation names into label values, keeping at most `limit` distinct names."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def __call__(self, name: str | None) -> str:
        """The label value for a GraphQL operation name: itself, "" (none), or "other"."""
        if not name:
            return ""
        if name in self._seen:
            return name
        if _NAME.fullmatch(name) is None or len(self._seen) >= self.limit:
            return OTHER_OPERATION
        self._seen.add(name)
        return name


# This process's: every worker keeps its own MAX_OPERATION_NAMES.
bounded_operation = OperationLabels()
