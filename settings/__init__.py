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
