"""Service configuration, read once from environment variables.

Every variable is documented in the README's "Configuration" section.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

DEFAULT_DATABASE_URL = "sqlite://./aize-analytics.sqlite3"
# Most fields and list items one GraphQL response may hold, predicted before it runs;
# docs/readme/limits.md says how the default was measured.
DEFAULT_MAX_RESPONSE_NODES = 20_000
# Most points one usage export (trend, breakdown) may cost, predicted before it runs
# (exports/cost.py); docs/readme/limits.md.
DEFAULT_MAX_EXPORT_COST = 50_000


class SettingsError(ValueError):
    """A configuration value is unusable; the message names the variable."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _nonnegative_seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise SettingsError(f"{name} must be 0 or a positive number of seconds, got {raw!r}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime settings; build with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    db_pool_max: int = 10
    # PostgreSQL streaming replicas for dashboards, logs, exports and reports
    # (models/read_replicas.py; docs/SCALING.md); one skipped while it lags past the bound.
    database_read_urls: tuple[str, ...] = field(default=(), repr=False)
    read_replica_max_lag_seconds: float = 5.0
    read_replica_check_seconds: float = 5.0
    late_arrival_days: int = 35
    # Growth: raw logs older than this many whole months are dropped (0 = keep forever), and
    # how often `serve` runs maintenance; docs/readme/growth.md.
    raw_retention_months: int = 0
    maintenance_interval_seconds: float = 3600.0
    # One leader among all processes runs the background work (coordination/leadership.py):
    # off, every process runs it (each item is still claimed once); the lease's length.
    leader_election: bool = True
    leader_lease_seconds: float = 30.0
    bulk_max_records: int = 10_000
    bulk_max_bytes: int = 16 * 1024 * 1024
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    # Abuse limits; docs/readme/limits.md explains each one.
    max_query_depth: int = 10
    max_aliases: int = 15
    max_query_tokens: int = 2_000
    max_query_cost: int = 10_000
    max_response_nodes: int = DEFAULT_MAX_RESPONSE_NODES
    max_export_cost: int = DEFAULT_MAX_EXPORT_COST
    rate_limit_capacity: int = 100_000
    rate_limit_refill_per_second: int = 2_000
    # Shared by every token and member of one organization; 4 x the token's by default.
    rate_limit_org_capacity: int = 800_000
    # Ingest tokens (GraphQL ingest and /ingest/bulk, 1 point per record) have their own.
    rate_limit_ingest_capacity: int = 1_000_000
    # Where the budgets live: None keeps them in this process; a redis:// URL shares them.
    redis_url: str | None = field(default=None, repr=False)
    # How long a request arriving with its budget spent waits for its 429 (graph/rate_limit_http).
    rate_limit_pause_seconds: float = 1.0
    request_timeout_seconds: float = 10.0
    # Byte limits of /graphql; docs/readme/limits.md explains each one.
    max_request_bytes: int = 1024 * 1024
    max_query_bytes: int = 128 * 1024
    max_string_bytes: int = 64 * 1024
    document_cache_bytes: int = 4 * 1024 * 1024
    # Alert worker and delivery; docs/readme/alerts.md explains each one.
    alert_worker: bool = True
    alert_poll_seconds: float = 60.0
    alert_max_attempts: int = 10
    webhook_timeout_seconds: float = 10.0
    webhook_allow_private_networks: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 30.0
    # Scheduled reports run inside `serve` (off by default); docs/readme/reports.md.
    reports_schedule: tuple[str, ...] = ()
    # Whether the scheduler runs at all: AIZE_REPORTS_SCHEDULE is not off (`organizations`
    # runs it for the organizations' own schedules only, with no server-wide default).
    reports_scheduler_on: bool = False
    reports_check_seconds: float = 300.0
    # Operations (docs/readme/integrations.md): /metrics answers only with this bearer token
    # (unset: no /metrics); per-organization spend gauges only when asked for, at most
    # metrics_organization_limit organizations (one series each: cardinality).
    metrics_token: str | None = field(default=None, repr=False)
    metrics_organization_spend: bool = False
    metrics_organization_limit: int = 1000
    # `json`: one JSON object per log line (observability/json_logs.py); `text`: uvicorn's.
    log_format: str = "text"
    # OpenTelemetry traces (the `otel` extra; observability/tracing.py).
    otel_traces: bool = False
    # Live subscriptions (graphql-transport-ws, multipart, SSE); docs/readme/live.md.
    subscription_interval_seconds: float = 1.0
    subscription_refresh_seconds: float = 30.0
    subscription_auth_recheck_seconds: float = 5.0
    max_subscriptions_per_connection: int = 20
    max_subscriptions_per_token: int = 50
    # With AIZE_REDIS_URL: a crashed process's subscriptions stop counting after this.
    subscription_slot_ttl_seconds: float = 30.0
    max_subscription_message_bytes: int = 64 * 1024
    subscription_keepalive_seconds: float = 15.0
    subscription_idle_seconds: float = 300.0
    subscription_queue_messages: int = 8
    # AIZE_FAST_EXECUTOR: the GraphQL executor's short path for plain fields (graph/execution.py);
    # false runs graphql-core's own executor (graph/executor_choice.py, docs/PERFORMANCE.md).
    fast_executor: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment)."""
        source = dict(os.environ if env is None else env)
        log_level = source.get("AIZE_LOG_LEVEL", "info").lower()
        if log_level not in {"debug", "info", "warning", "error", "critical"}:
            raise SettingsError(
                f"AIZE_LOG_LEVEL must be debug, info, warning, error or critical, got {log_level!r}"
            )
        origins = tuple(
            o.strip() for o in source.get("AIZE_CORS_ORIGINS", "").split(",") if o.strip()
        )
        max_cost = _int(source, "AIZE_MAX_QUERY_COST", 10_000, minimum=1)
        capacity = _int(source, "AIZE_RATE_LIMIT_CAPACITY", 100_000, minimum=1)
        if capacity < max_cost:
            # A query allowed by the cost limit must be affordable with a full bucket.
            raise SettingsError(
                f"AIZE_RATE_LIMIT_CAPACITY ({capacity}) must be at least "
                f"AIZE_MAX_QUERY_COST ({max_cost})"
            )
        bulk_max_records = _int(source, "AIZE_BULK_MAX_RECORDS", 10_000, minimum=1)
        rate_limits = _rate_limit_settings(source, capacity, max_cost, bulk_max_records)
        max_export_cost = _int(source, "AIZE_MAX_EXPORT_COST", DEFAULT_MAX_EXPORT_COST, minimum=1)
        # An export the limit admits must fit an empty budget, or it could never be paid.
        for name, budget in (
            ("AIZE_RATE_LIMIT_CAPACITY", capacity),
            ("AIZE_RATE_LIMIT_ORG_CAPACITY", int(rate_limits["rate_limit_org_capacity"])),
        ):
            if budget < max_export_cost:
                raise SettingsError(
                    f"{name} ({budget}) must be at least AIZE_MAX_EXPORT_COST ({max_export_cost})"
                )
        database_url = source.get("AIZE_DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(
            database_url=database_url,
            host=source.get("AIZE_HOST") or "127.0.0.1",
            port=_int(source, "AIZE_PORT", 8000, minimum=1),
            log_level=log_level,
            db_pool_max=_int(source, "AIZE_DB_POOL_MAX", 10, minimum=1),
            database_read_urls=_read_urls(source, database_url),
            read_replica_max_lag_seconds=_seconds(source, "AIZE_READ_REPLICA_MAX_LAG_SECONDS", 5.0),
            read_replica_check_seconds=_seconds(source, "AIZE_READ_REPLICA_CHECK_SECONDS", 5.0),
            late_arrival_days=_int(source, "AIZE_LATE_ARRIVAL_DAYS", 35, minimum=1),
            raw_retention_months=_int(source, "AIZE_RAW_RETENTION_MONTHS", 0, minimum=0),
            maintenance_interval_seconds=_seconds(
                source, "AIZE_MAINTENANCE_INTERVAL_SECONDS", 3600.0
            ),
            leader_election=_bool(source, "AIZE_LEADER_ELECTION", True),
            leader_lease_seconds=_seconds(source, "AIZE_LEADER_LEASE_SECONDS", 30.0),
            bulk_max_records=bulk_max_records,
            bulk_max_bytes=_int(source, "AIZE_BULK_MAX_BYTES", 16 * 1024 * 1024, minimum=1024),
            cors_origins=origins,
            max_query_depth=_int(source, "AIZE_MAX_QUERY_DEPTH", 10, minimum=1),
            max_aliases=_int(source, "AIZE_MAX_ALIASES", 15, minimum=0),
            max_query_tokens=_int(source, "AIZE_MAX_QUERY_TOKENS", 2_000, minimum=100),
            max_query_cost=max_cost,
            max_response_nodes=_int(
                source, "AIZE_MAX_RESPONSE_NODES", DEFAULT_MAX_RESPONSE_NODES, minimum=1
            ),
            max_export_cost=max_export_cost,
            rate_limit_capacity=capacity,
            **rate_limits,
            request_timeout_seconds=_seconds(source, "AIZE_REQUEST_TIMEOUT_SECONDS", 10.0),
            max_request_bytes=_int(
                source, "AIZE_MAX_REQUEST_BYTES", 1024 * 1024, minimum=64 * 1024
            ),
            max_query_bytes=_int(source, "AIZE_MAX_QUERY_BYTES", 128 * 1024, minimum=4096),
            max_string_bytes=_int(source, "AIZE_MAX_STRING_BYTES", 64 * 1024, minimum=1024),
            document_cache_bytes=_int(
                source, "AIZE_DOCUMENT_CACHE_BYTES", 4 * 1024 * 1024, minimum=0
            ),
            **_alert_settings(source),
            reports_schedule=_report_kinds(source),
            reports_scheduler_on=_report_kinds_raw(source) not in _REPORTS_OFF,
            reports_check_seconds=_seconds(source, "AIZE_REPORTS_CHECK_SECONDS", 300.0),
            **_operations_settings(source),
            **_subscription_settings(source),
            fast_executor=_bool(source, "AIZE_FAST_EXECUTOR", True),
        )

    @property
    def rate_limit_window_seconds(self) -> int:
        """The length of every budget's window: capacity / refill, in whole seconds (>= 1)."""
        return max(round(self.rate_limit_capacity / self.rate_limit_refill_per_second), 1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def sqlite_path(self) -> Path | None:
        """The SQLite file path, or None for Postgres or an in-memory database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.removeprefix("sqlite://")
        return None if path in {"", ":memory:"} else Path(path)


_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def _read_urls(env: dict[str, str], database_url: str) -> tuple[str, ...]:
    """AIZE_DATABASE_READ_URLS: comma-separated PostgreSQL URLs of streaming replicas of the
    AIZE_DATABASE_URL server; refused with SQLite, which has no replicas."""
    raw = env.get("AIZE_DATABASE_READ_URLS", "")
    urls = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not urls:
        return ()
    if not database_url.startswith(_POSTGRES_SCHEMES):
        raise SettingsError(
            "AIZE_DATABASE_READ_URLS needs a PostgreSQL primary: AIZE_DATABASE_URL is "
            f"{database_url.split('://', 1)[0]}, which has no read replicas; unset it"
        )
    for position, url in enumerate(urls, start=1):
        if not url.startswith(_POSTGRES_SCHEMES):
            scheme = url.split("://", 1)[0] if "://" in url else url[:20]
            raise SettingsError(
                f"AIZE_DATABASE_READ_URLS: URL {position} is not PostgreSQL ({scheme!r}); "
                "use postgres://USER@HOST:PORT/DB"
            )
    if len(set(urls)) != len(urls):
        raise SettingsError("AIZE_DATABASE_READ_URLS lists the same URL twice")
    return urls


class _RateLimitSettings(TypedDict):
    rate_limit_refill_per_second: int
    rate_limit_org_capacity: int
    rate_limit_ingest_capacity: int
    redis_url: str | None
    rate_limit_pause_seconds: float


# The default organization budget, in token budgets: a few people (or dashboards) can work at
# full speed at once, while one organization stays a bounded share of the server.
ORG_CAPACITY_IN_TOKEN_BUDGETS = 8
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _rate_limit_settings(
    env: dict[str, str], capacity: int, max_cost: int, bulk_max_records: int
) -> _RateLimitSettings:
    """The budgets besides the token's (AIZE_RATE_LIMIT_*) and where they live (AIZE_REDIS_URL)."""
    refill = _int(env, "AIZE_RATE_LIMIT_REFILL_PER_SECOND", 2_000, minimum=1)
    if refill > capacity:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_REFILL_PER_SECOND ({refill}) must be at most "
            f"AIZE_RATE_LIMIT_CAPACITY ({capacity}): a budget's window is capacity / refill "
            "seconds, at least 1"
        )
    org_capacity = _int(
        env,
        "AIZE_RATE_LIMIT_ORG_CAPACITY",
        ORG_CAPACITY_IN_TOKEN_BUDGETS * capacity,
        minimum=1,
    )
    if org_capacity < max_cost:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_ORG_CAPACITY ({org_capacity}) must be at least "
            f"AIZE_MAX_QUERY_COST ({max_cost})"
        )
    ingest_capacity = _int(env, "AIZE_RATE_LIMIT_INGEST_CAPACITY", 1_000_000, minimum=1)
    # The largest bulk batch (1 point per record) and the costliest query must be affordable.
    needed = max(bulk_max_records, max_cost)
    if ingest_capacity < needed:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_INGEST_CAPACITY ({ingest_capacity}) must be at least "
            f"AIZE_BULK_MAX_RECORDS and AIZE_MAX_QUERY_COST ({needed})"
        )
    redis_url = env.get("AIZE_REDIS_URL", "").strip() or None
    if redis_url is not None and not redis_url.startswith(REDIS_SCHEMES):
        raise SettingsError(
            "AIZE_REDIS_URL must start with redis://, rediss:// or unix://, "
            f"got {redis_url.split('@')[-1]!r}"
        )
    pause = _nonnegative_seconds(env, "AIZE_RATE_LIMIT_PAUSE_SECONDS", 1.0)
    return {
        "rate_limit_pause_seconds": pause,
        "rate_limit_refill_per_second": refill,
        "rate_limit_org_capacity": org_capacity,
        "rate_limit_ingest_capacity": ingest_capacity,
        "redis_url": redis_url,
    }


class _AlertSettings(TypedDict):
    alert_worker: bool
    alert_poll_seconds: float
    alert_max_attempts: int
    webhook_timeout_seconds: float
    webhook_allow_private_networks: bool
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str | None
    smtp_starttls: bool
    smtp_timeout_seconds: float


def _alert_settings(env: dict[str, str]) -> _AlertSettings:
    """The alert worker's and delivery's settings (AIZE_ALERT_*, AIZE_WEBHOOK_*, AIZE_SMTP_*)."""
    smtp_host = env.get("AIZE_SMTP_HOST", "").strip() or None
    smtp_from = env.get("AIZE_SMTP_FROM", "").strip() or None
    smtp_user = env.get("AIZE_SMTP_USER") or None
    smtp_password = env.get("AIZE_SMTP_PASSWORD") or None
    if smtp_host is not None and smtp_from is None:
        raise SettingsError("AIZE_SMTP_FROM is required when AIZE_SMTP_HOST is set")
    if smtp_from is not None and ("\r" in smtp_from or "\n" in smtp_from or "@" not in smtp_from):
        raise SettingsError(f"AIZE_SMTP_FROM must be an email address, got {smtp_from!r}")
    if (smtp_user is None) != (smtp_password is None):
        raise SettingsError("AIZE_SMTP_USER and AIZE_SMTP_PASSWORD must be set together")
    return {
        "alert_worker": _bool(env, "AIZE_ALERT_WORKER", True),
        "alert_poll_seconds": _seconds(env, "AIZE_ALERT_POLL_SECONDS", 60.0),
        "alert_max_attempts": _int(env, "AIZE_ALERT_MAX_ATTEMPTS", 10, minimum=1),
        "webhook_timeout_seconds": _seconds(env, "AIZE_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "webhook_allow_private_networks": _bool(env, "AIZE_WEBHOOK_ALLOW_PRIVATE_NETWORKS", False),
        "smtp_host": smtp_host,
        "smtp_port": _int(env, "AIZE_SMTP_PORT", 587, minimum=1),
        "smtp_user": smtp_user,
        "smtp_password": smtp_password,
        "smtp_from": smtp_from,
        "smtp_starttls": _bool(env, "AIZE_SMTP_STARTTLS", True),
        "smtp_timeout_seconds": _seconds(env, "AIZE_SMTP_TIMEOUT_SECONDS", 30.0),
    }


class _OperationsSettings(TypedDict):
    metrics_token: str | None
    metrics_organization_spend: bool
    metrics_organization_limit: int
    log_format: str
    otel_traces: bool


# A bearer token shorter than this is guessable; `openssl rand -hex 32` makes a good one.
MIN_METRICS_TOKEN_LENGTH = 16
LOG_FORMATS = ("text", "json")


def _operations_settings(env: dict[str, str]) -> _OperationsSettings:
    """/metrics, logs and traces (AIZE_METRICS_*, AIZE_LOG_FORMAT, AIZE_OTEL_TRACES)."""
    token = env.get("AIZE_METRICS_TOKEN", "").strip() or None
    if token is not None and len(token) < MIN_METRICS_TOKEN_LENGTH:
        raise SettingsError(
            f"AIZE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters "
            f"(got {len(token)}); e.g. `openssl rand -hex 32`"
        )
    log_format = env.get("AIZE_LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"AIZE_LOG_FORMAT must be text or json, got {log_format!r}")
    return {
        "metrics_token": token,
        "metrics_organization_spend": _bool(env, "AIZE_METRICS_ORGANIZATION_SPEND", False),
        "metrics_organization_limit": _int(env, "AIZE_METRICS_ORGANIZATION_LIMIT", 1000, minimum=1),
        "log_format": log_format,
        "otel_traces": _bool(env, "AIZE_OTEL_TRACES", False),
    }


def _subscription_settings(env: dict[str, str]) -> dict[str, Any]:
    return {
        "subscription_interval_seconds": _seconds(env, "AIZE_SUBSCRIPTION_INTERVAL_SECONDS", 1.0),
        "subscription_refresh_seconds": _seconds(env, "AIZE_SUBSCRIPTION_REFRESH_SECONDS", 30.0),
        "subscription_auth_recheck_seconds": _seconds(
            env, "AIZE_SUBSCRIPTION_AUTH_RECHECK_SECONDS", 5.0
        ),
        "max_subscriptions_per_connection": _int(
            env, "AIZE_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20, minimum=1
        ),
        "max_subscriptions_per_token": _int(env, "AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN", 50, minimum=1),
        "subscription_slot_ttl_seconds": _seconds(env, "AIZE_SUBSCRIPTION_SLOT_TTL_SECONDS", 30.0),
        "max_subscription_message_bytes": _int(
            env, "AIZE_MAX_SUBSCRIPTION_MESSAGE_BYTES", 64 * 1024, minimum=1024
        ),
        "subscription_keepalive_seconds": _seconds(
            env, "AIZE_SUBSCRIPTION_KEEPALIVE_SECONDS", 15.0
        ),
        "subscription_idle_seconds": _seconds(env, "AIZE_SUBSCRIPTION_IDLE_SECONDS", 300.0),
        "subscription_queue_messages": _int(env, "AIZE_SUBSCRIPTION_QUEUE_MESSAGES", 8, minimum=1),
    }


REPORT_KINDS = ("daily", "weekly", "monthly")


_REPORTS_OFF = frozenset({"", "off", "false", "0", "no"})
# Only the organizations' own schedules (setReportSchedule); no server-wide default kinds.
_REPORTS_ORGANIZATIONS = "organizations"


def _report_kinds_raw(env: dict[str, str]) -> str:
    return env.get("AIZE_REPORTS_SCHEDULE", "").strip().lower()


def _report_kinds(env: dict[str, str]) -> tuple[str, ...]:
    """AIZE_REPORTS_SCHEDULE: off (default), on (every kind), a list such as weekly,monthly,
    or `organizations`: the kinds organizations without a schedule of their own get."""
    raw = _report_kinds_raw(env)
    if raw in _REPORTS_OFF or raw == _REPORTS_ORGANIZATIONS:
        return ()
    if raw in {"on", "true", "1", "yes", "all"}:
        return REPORT_KINDS
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in REPORT_KINDS]
    if unknown or not kinds:
        raise SettingsError(
            "AIZE_REPORTS_SCHEDULE must be off, on, organizations, or a list of daily, "
            "weekly, monthly; "
            f"got {raw!r}"
        )
    return tuple(k for k in REPORT_KINDS if k in kinds)


__all__ = ["DEFAULT_DATABASE_URL", "Settings", "SettingsError"]
