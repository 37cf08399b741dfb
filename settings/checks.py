"""Settings rules beyond a type and a bound: a value's own form (Redis URL, metrics token,
report schedule) and the rules between settings, checked after each value is read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from settings.values import SettingsError, Stripped

if TYPE_CHECKING:
    from settings import Settings

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# A bearer token shorter than this is guessable; `openssl rand -hex 32` makes a good one.
MIN_METRICS_TOKEN_LENGTH = 16
REPORT_KINDS = ("daily", "weekly", "monthly")
_REPORTS_OFF = frozenset({"", "off", "false", "0", "no"})
# Only the organizations' own schedules (setReportSchedule); no server-wide default kinds.
_REPORTS_ORGANIZATIONS = "organizations"
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def _redis_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(REDIS_SCHEMES):
        raise SettingsError(
            "AIZE_REDIS_URL must start with redis://, rediss:// or unix://, "
            f"got {value.split('@')[-1]!r}"  # the host only: never echo a password
        )
    return value


def _metrics_token(value: str | None) -> str | None:
    if value is not None and len(value) < MIN_METRICS_TOKEN_LENGTH:
        raise SettingsError(
            f"AIZE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters "
            f"(got {len(value)}); e.g. `openssl rand -hex 32`"
        )
    return value


def report_kinds(raw: str) -> tuple[str, ...]:
    """The server-wide report kinds of an AIZE_REPORTS_SCHEDULE value: none when off or
    `organizations`, every kind for on, else the listed ones in REPORT_KINDS order."""
    raw = raw.strip().lower()
    if raw in _REPORTS_OFF or raw == _REPORTS_ORGANIZATIONS:
        return ()
    if raw in {"on", "true", "1", "yes", "all"}:
        return REPORT_KINDS
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in REPORT_KINDS]
    if unknown or not kinds:
        raise SettingsError(
            "AIZE_REPORTS_SCHEDULE must be off, on, organizations, or a list of daily, "
            f"weekly, monthly; got {raw!r}"
        )
    return tuple(k for k in REPORT_KINDS if k in kinds)


def _report_kinds(value: Any) -> Any:
    return report_kinds(value) if isinstance(value, str) else value


def _reports_on(value: Any) -> Any:
    return value.strip().lower() not in _REPORTS_OFF if isinstance(value, str) else value


RedisUrl = Annotated[Stripped, AfterValidator(_redis_url)]
MetricsToken = Annotated[Stripped, AfterValidator(_metrics_token)]
ReportKinds = Annotated[tuple[str, ...], BeforeValidator(_report_kinds)]
# AIZE_REPORTS_SCHEDULE is anything but off (`organizations` included).
ReportsOn = Annotated[bool, BeforeValidator(_reports_on)]


def check_consistent(s: Settings) -> None:
    """Raise SettingsError for the first rule between settings that `s` breaks."""
    _check_rate_limits(s)
    _check_read_urls(s)
    _check_smtp(s)
    _check_folding(s)


def _check_folding(s: Settings) -> None:
    if s.rollup_folding == "deferred" and not s.database_url.startswith(_POSTGRES_SCHEMES):
        raise SettingsError(
            "AIZE_ROLLUP_FOLDING=deferred needs PostgreSQL: SQLite folds rollups in the "
            "ingest transaction; unset it"
        )
    if s.fold_workers >= s.db_pool_max:
        # Each organization folded at once holds a connection of the pool for its batch.
        raise SettingsError(
            f"AIZE_FOLD_WORKERS ({s.fold_workers}) must be below AIZE_DB_POOL_MAX "
            f"({s.db_pool_max}): the folder would hold every connection requests need"
        )


def _check_rate_limits(s: Settings) -> None:
    if s.rate_limit_capacity < s.max_query_cost:
        # A query allowed by the cost limit must be affordable with a full bucket.
        raise SettingsError(
            f"AIZE_RATE_LIMIT_CAPACITY ({s.rate_limit_capacity}) must be at least "
            f"AIZE_MAX_QUERY_COST ({s.max_query_cost})"
        )
    if s.rate_limit_refill_per_second > s.rate_limit_capacity:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_REFILL_PER_SECOND ({s.rate_limit_refill_per_second}) must be at "
            f"most AIZE_RATE_LIMIT_CAPACITY ({s.rate_limit_capacity}): a budget's window is "
            "capacity / refill seconds, at least 1"
        )
    if s.rate_limit_org_capacity < s.max_query_cost:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_ORG_CAPACITY ({s.rate_limit_org_capacity}) must be at least "
            f"AIZE_MAX_QUERY_COST ({s.max_query_cost})"
        )
    # The largest bulk batch (1 point per record) and the costliest query must be affordable.
    needed = max(s.bulk_max_records, s.max_query_cost)
    if s.rate_limit_ingest_capacity < needed:
        raise SettingsError(
            f"AIZE_RATE_LIMIT_INGEST_CAPACITY ({s.rate_limit_ingest_capacity}) must be at least "
            f"AIZE_BULK_MAX_RECORDS and AIZE_MAX_QUERY_COST ({needed})"
        )
    # An export the limit admits must fit an empty budget, or it could never be paid.
    for name, budget in (
        ("AIZE_RATE_LIMIT_CAPACITY", s.rate_limit_capacity),
        ("AIZE_RATE_LIMIT_ORG_CAPACITY", s.rate_limit_org_capacity),
    ):
        if budget < s.max_export_cost:
            raise SettingsError(
                f"{name} ({budget}) must be at least AIZE_MAX_EXPORT_COST ({s.max_export_cost})"
            )


def _check_read_urls(s: Settings) -> None:
    """AIZE_DATABASE_READ_URLS: PostgreSQL URLs of streaming replicas of the AIZE_DATABASE_URL
    server; refused with SQLite, which has no replicas."""
    urls = s.database_read_urls
    if not urls:
        return
    if not s.database_url.startswith(_POSTGRES_SCHEMES):
        raise SettingsError(
            "AIZE_DATABASE_READ_URLS needs a PostgreSQL primary: AIZE_DATABASE_URL is "
            f"{s.database_url.split('://', 1)[0]}, which has no read replicas; unset it"
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


def _check_smtp(s: Settings) -> None:
    if s.smtp_host is not None and s.smtp_from is None:
        raise SettingsError("AIZE_SMTP_FROM is required when AIZE_SMTP_HOST is set")
    sender = s.smtp_from
    if sender is not None and ("\r" in sender or "\n" in sender or "@" not in sender):
        raise SettingsError(f"AIZE_SMTP_FROM must be an email address, got {sender!r}")
    if (s.smtp_user is None) != (s.smtp_password is None):
        raise SettingsError("AIZE_SMTP_USER and AIZE_SMTP_PASSWORD must be set together")
