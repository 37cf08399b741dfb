"""Service configuration, read once from environment variables.

Every variable is documented in the README's "Configuration" section.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite://./aize-analytics.sqlite3"


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
    late_arrival_days: int = 35
    bulk_max_records: int = 10_000
    bulk_max_bytes: int = 16 * 1024 * 1024
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    # Abuse limits; docs/readme/limits.md explains each one.
    max_query_depth: int = 10
    max_aliases: int = 15
    max_query_tokens: int = 2_000
    max_query_cost: int = 10_000
    rate_limit_capacity: int = 50_000
    rate_limit_refill_per_second: int = 1_000
    request_timeout_seconds: float = 10.0

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
        capacity = _int(source, "AIZE_RATE_LIMIT_CAPACITY", 50_000, minimum=1)
        if capacity < max_cost:
            # A query allowed by the cost limit must be affordable with a full bucket.
            raise SettingsError(
                f"AIZE_RATE_LIMIT_CAPACITY ({capacity}) must be at least "
                f"AIZE_MAX_QUERY_COST ({max_cost})"
            )
        return cls(
            database_url=source.get("AIZE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=source.get("AIZE_HOST") or "127.0.0.1",
            port=_int(source, "AIZE_PORT", 8000, minimum=1),
            log_level=log_level,
            db_pool_max=_int(source, "AIZE_DB_POOL_MAX", 10, minimum=1),
            late_arrival_days=_int(source, "AIZE_LATE_ARRIVAL_DAYS", 35, minimum=1),
            bulk_max_records=_int(source, "AIZE_BULK_MAX_RECORDS", 10_000, minimum=1),
            bulk_max_bytes=_int(source, "AIZE_BULK_MAX_BYTES", 16 * 1024 * 1024, minimum=1024),
            cors_origins=origins,
            max_query_depth=_int(source, "AIZE_MAX_QUERY_DEPTH", 10, minimum=1),
            max_aliases=_int(source, "AIZE_MAX_ALIASES", 15, minimum=0),
            max_query_tokens=_int(source, "AIZE_MAX_QUERY_TOKENS", 2_000, minimum=100),
            max_query_cost=max_cost,
            rate_limit_capacity=capacity,
            rate_limit_refill_per_second=_int(
                source, "AIZE_RATE_LIMIT_REFILL_PER_SECOND", 1_000, minimum=1
            ),
            request_timeout_seconds=_seconds(source, "AIZE_REQUEST_TIMEOUT_SECONDS", 10.0),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def sqlite_path(self) -> Path | None:
        """The SQLite file path, or None for Postgres or an in-memory database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.removeprefix("sqlite://")
        return None if path in {"", ":memory:"} else Path(path)


__all__ = ["DEFAULT_DATABASE_URL", "Settings", "SettingsError"]
