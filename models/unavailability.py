"""Whether an exception means the database cannot be reached (rather than that a query or the
request was wrong): refused, cut, starting up or shutting down. web/database_errors.py
answers such errors with 503; models/read_replicas.py skips a replica that raises one.
"""

from __future__ import annotations

import errno
import logging
import socket
import traceback

import asyncpg
from tortoise.exceptions import DBConnectionError

log = logging.getLogger("aize.database")

# What an HTTP 503 and a GraphQL SERVICE_UNAVAILABLE error say (web/database_errors.py,
# graph/extensions/error_codes.py).
UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "the database is unavailable; retry shortly"
# A PostgreSQL restart (crash recovery included) usually takes a few seconds.
RETRY_AFTER_SECONDS = 5


def log_unavailable(where: str, exc: BaseException) -> None:
    """One warning line (no traceback: the cause is outside this process)."""
    log.warning("database unavailable during %s: %s: %s", where, type(exc).__name__, exc)


# Server-side states in which PostgreSQL takes no work: starting up or in recovery,
# shutting down, crashed, out of connection slots.
_SERVER_NOT_ACCEPTING: tuple[type[BaseException], ...] = (
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EADDRNOTAVAIL,
    }
)
# Where a plain OSError means the connection failed: it was raised inside the driver.
_DRIVER_MODULES = ("asyncpg.",)
# asyncpg's own messages when a pooled connection or the pool is gone.
_CLOSED_MESSAGES = ("connection is closed", "pool is closing", "pool is closed")


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, an exception it was raised from or during, or one in its group, says
    the database cannot be reached (rather than that a query or the request was wrong)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_unavailability(current):
            return True
        if isinstance(current, BaseExceptionGroup) and any(
            is_database_unavailable(inner) for inner in current.exceptions
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_unavailability(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresConnectionError | DBConnectionError):
        return True
    if isinstance(exc, _SERVER_NOT_ACCEPTING):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return any(text in str(exc) for text in _CLOSED_MESSAGES)
    if isinstance(exc, ConnectionError | socket.gaierror):
        return True
    if isinstance(exc, OSError):
        # asyncio reports failing to reach every address of a host as one plain OSError; a
        # missing Unix socket (server down) is a FileNotFoundError raised inside asyncpg.
        return (
            exc.errno in _NETWORK_ERRNOS
            or "Connect call failed" in str(exc)
            or _raised_in_driver(exc)
        )
    return False


def _raised_in_driver(exc: BaseException) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(_DRIVER_MODULES)
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )
