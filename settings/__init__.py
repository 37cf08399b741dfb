"""Service configuration, read once from environment variables.

Each setting is one field of `Settings`, read from `AIZE_<FIELD NAME>`: its annotation says
which values it accepts (pydantic checks them when `from_env` reads the environment; the
kinds are in settings/values.py), its default applies when the variable is unset or empty.
A bad value is refused with a `SettingsError` naming the variable and what is wrong. Adding a
setting is adding a field here and its row in the README's "Configuration" table (a test
compares the two). `Settings(...)` and `dataclasses.replace` take values as given, unchecked.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, get_args, get_origin, get_type_hints

from pydantic import Field, TypeAdapter, ValidationError

from settings.checks import (
    MetricsToken,
    RedisUrl,
    ReportKinds,
    ReportsOn,
    check_consistent,
)
from settings.values import (
    ENV_PREFIX,
    CommaList,
    FoldingMode,
    LogFormat,
    LogLevel,
    Positive,
    ReadFrom,
    Seconds,
    SecondsOrZero,
    SettingsError,
    Stripped,
    Switch,
    Whole,
    refusal,
    variable,
)

DEFAULT_DATABASE_URL = "sqlite://./aize-analytics.sqlite3"
# Most fields and list items one GraphQL response may hold, predicted before it runs;
# docs/readme/limits.md says how the default was measured.
DEFAULT_MAX_RESPONSE_NODES = 20_000
# Most points one usage export (trend, breakdown) may cost, predicted before it runs
# (exports/cost.py); docs/readme/limits.md.
DEFAULT_MAX_EXPORT_COST = 50_000
# The default organization budget, in token budgets: a few people (or dashboards) can work at
# full speed at once, while one organization stays a bounded share of the server.
ORG_CAPACITY_IN_TOKEN_BUDGETS = 8


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime settings; build with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: Positive = 8000
    log_level: LogLevel = "info"
    db_pool_max: Positive = 10
    # PostgreSQL streaming replicas for dashboards, logs, exports and reports
    # (models/read_replicas.py; docs/SCALING.md); one skipped while it lags past the bound.
    database_read_urls: CommaList = field(default=(), repr=False)
    read_replica_max_lag_seconds: Seconds = 5.0
    read_replica_check_seconds: Seconds = 5.0
    late_arrival_days: Positive = 35
    # Growth: raw logs older than this many whole months are dropped (0 = keep forever), and
    # how often `serve` runs maintenance; docs/readme/growth.md.
    raw_retention_months: Whole = 0
    maintenance_interval_seconds: Seconds = 3600.0
    # One leader among all processes runs the background work (coordination/leadership.py):
    # off, every process runs it (each item is still claimed once); the lease's length.
    leader_election: Switch = True
    leader_lease_seconds: Seconds = 30.0
    bulk_max_records: Positive = 10_000
    bulk_max_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    # Longest wait of an ingest transaction for one row lock (PostgreSQL) before the batch is
    # refused with 503 + Retry-After, nothing stored (ingestion/lock_wait.py).
    ingest_lock_wait_seconds: Seconds = 10.0
    cors_origins: CommaList = ()
    # Abuse limits; docs/readme/limits.md explains each one.
    max_query_depth: Positive = 10
    max_aliases: Whole = 15
    max_query_tokens: Annotated[int, Field(ge=100)] = 2_000
    max_query_cost: Positive = 10_000
    max_response_nodes: Positive = DEFAULT_MAX_RESPONSE_NODES
    max_export_cost: Positive = DEFAULT_MAX_EXPORT_COST
    rate_limit_capacity: Positive = 100_000
    rate_limit_refill_per_second: Positive = 2_000
    # Shared by every token and member of one organization; unset, from_env makes it
    # ORG_CAPACITY_IN_TOKEN_BUDGETS x the token's.
    rate_limit_org_capacity: Positive = ORG_CAPACITY_IN_TOKEN_BUDGETS * 100_000
    # Ingest tokens (GraphQL ingest and /ingest/bulk, 1 point per record) have their own.
    rate_limit_ingest_capacity: Positive = 1_000_000
    # Where the budgets live: None keeps them in this process; a redis:// URL shares them.
    redis_url: RedisUrl = field(default=None, repr=False)
    # How long a request arriving with its budget spent waits for its 429 (web/rate_limit_http).
    rate_limit_pause_seconds: SecondsOrZero = 1.0
    request_timeout_seconds: Seconds = 10.0
    # Byte limits of /graphql; docs/readme/limits.md explains each one.
    max_request_bytes: Annotated[int, Field(ge=64 * 1024)] = 1024 * 1024
    max_query_bytes: Annotated[int, Field(ge=4096)] = 128 * 1024
    max_string_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    document_cache_bytes: Whole = 4 * 1024 * 1024
    # Alert worker and delivery; docs/readme/alerts.md explains each one.
    alert_worker: Switch = True
    alert_poll_seconds: Seconds = 60.0
    alert_max_attempts: Positive = 10
    webhook_timeout_seconds: Seconds = 10.0
    webhook_allow_private_networks: Switch = False
    smtp_host: Stripped = None
    smtp_port: Positive = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: Stripped = None
    smtp_starttls: Switch = True
    smtp_timeout_seconds: Seconds = 30.0
    # Scheduled reports run inside `serve` (off by default); docs/readme/reports.md.
    # AIZE_REPORTS_SCHEDULE: off, on (every kind), a list such as weekly,monthly, or
    # `organizations`: the organizations' own schedules only, no server-wide default kinds.
    reports_schedule: ReportKinds = ()
    # Whether the scheduler runs at all: AIZE_REPORTS_SCHEDULE is not off.
    reports_scheduler_on: Annotated[ReportsOn, ReadFrom("AIZE_REPORTS_SCHEDULE")] = False
    reports_check_seconds: Seconds = 300.0
    # Operations (docs/readme/integrations.md): /metrics answers only with this bearer token
    # (unset: no /metrics); per-organization spend gauges only when asked for, at most
    # metrics_organization_limit organizations (one series each: cardinality).
    metrics_token: MetricsToken = field(default=None, repr=False)
    metrics_organization_spend: Switch = False
    metrics_organization_limit: Positive = 1000
    # `json`: one JSON object per log line (observability/json_logs.py); `text`: uvicorn's.
    log_format: LogFormat = "text"
    # OpenTelemetry traces (the `otel` extra; observability/tracing.py).
    otel_traces: Switch = False
    # Live subscriptions (graphql-transport-ws, multipart, SSE); docs/readme/live.md.
    subscription_interval_seconds: Seconds = 1.0
    subscription_refresh_seconds: Seconds = 30.0
    subscription_auth_recheck_seconds: Seconds = 5.0
    max_subscriptions_per_connection: Positive = 20
    max_subscriptions_per_token: Positive = 50
    # With AIZE_REDIS_URL: a crashed process's subscriptions stop counting after this.
    subscription_slot_ttl_seconds: Seconds = 30.0
    max_subscription_message_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    subscription_keepalive_seconds: Seconds = 15.0
    subscription_idle_seconds: Seconds = 300.0
    subscription_queue_messages: Positive = 8
    # Rollups folded after the commit (ingestion/folding.py; docs/readme/ingest.md):
    # "deferred" or "inline", None for the backend's default (deferred on PostgreSQL; SQLite
    # always folds inline); the folder's batch size and its pause once caught up.
    rollup_folding: FoldingMode | None = None
    fold_batch_rows: Positive = 20_000
    # Organizations the folder folds at once, each on a pool connection of its own.
    fold_workers: Positive = 2
    fold_interval_seconds: Seconds = 0.5
    # AIZE_FAST_EXECUTOR: the GraphQL executor's short path for plain fields (graph/execution.py);
    # false runs graphql-core's own executor (graph/executor_choice.py, docs/PERFORMANCE.md).
    fast_executor: Switch = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment); an empty variable
        counts as unset. Raises SettingsError naming the first unusable variable."""
        source = os.environ if env is None else env
        given = {
            name: source[var]
            for name, var in environment_variables().items()
            if source.get(var, "") != ""
        }
        try:
            settings = _READER.validate_python(given)
        except ValidationError as error:
            first = error.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else ""
            raise SettingsError(refusal(first, _FIELD_TYPES.get(name) is float)) from None
        if "rate_limit_org_capacity" not in given:
            budget = ORG_CAPACITY_IN_TOKEN_BUDGETS * settings.rate_limit_capacity
            settings = dataclasses.replace(settings, rate_limit_org_capacity=budget)
        check_consistent(settings)
        return settings

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


def environment_variables() -> dict[str, str]:
    """Each setting's field name and the environment variable it is read from."""
    return dict(_VARIABLES)


def _read_from(name: str, hint: object) -> str:
    marks = [m for m in get_args(hint)[1:] if isinstance(m, ReadFrom)]
    return marks[0].name if marks else variable(name)


def _base_type(hint: object) -> object:
    return get_args(hint)[0] if get_origin(hint) is Annotated else hint


_HINTS = get_type_hints(Settings, include_extras=True)
_VARIABLES = {f.name: _read_from(f.name, _HINTS[f.name]) for f in dataclasses.fields(Settings)}
_FIELD_TYPES = {name: _base_type(hint) for name, hint in _HINTS.items()}
_READER = TypeAdapter(Settings)

__all__ = ["DEFAULT_DATABASE_URL", "ENV_PREFIX", "Settings", "SettingsError"]
