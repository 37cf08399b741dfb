"""AIZE_LOG_FORMAT=json: every log line one JSON object, for log shippers (Loki, ELK...).

The logging configuration `serve` hands uvicorn: the same loggers, handlers and streams as
uvicorn's default (errors on stderr, the access log on stdout), and the service's own
`aize.*` loggers, each line formatted by python-json-logger: `time` (RFC 3339, UTC),
`level`, `logger` and `message`, plus the traceback under `exc_info` when there is one.
"""

from __future__ import annotations

from typing import Any

# The fields of every line, in python-json-logger's format-string form.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": JSON_FIELDS,
    "rename_fields": {"levelname": "level", "name": "logger"},
    # The record's time as `time`: RFC 3339 in UTC with microseconds (isoformat).
    "timestamp": "time",
}


def json_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration (uvicorn's `log_config`) at `level`."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": dict(_FORMATTER)},
        "handlers": {
            "default": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["access"], "level": upper, "propagate": False},
            "aize": {"handlers": ["default"], "level": upper, "propagate": False},
        },
    }
