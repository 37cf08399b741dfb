"""When the database cannot be reached, answer 503 with `Retry-After` instead of a 500.

A stopped, restarting or unreachable PostgreSQL shows up as driver errors: the connection is
refused (`ConnectionRefusedError`), cut in the middle of a query
(`ConnectionDoesNotExistError`, "connection is closed"), or the server is starting up or
shutting down (`CannotConnectNowError`, `AdminShutdownError`, `CrashShutdownError`). None of
these is the request's fault, nor a bug: the client should retry shortly, and the asyncpg
pool reconnects by itself once the server answers again (a broken connection is replaced on
its next acquire).

- `is_database_unavailable(exc)`: whether an exception (or one it was raised from) is such an
  error;
- `unavailable_response()`: the HTTP answer, 503 + `Retry-After` + a JSON error;
- `DatabaseUnavailableMiddleware`: turns such an exception escaping any endpoint (token
  lookup, bulk ingest, ...) into that answer. GraphQL execution errors are coded
  `SERVICE_UNAVAILABLE` by `graph/extensions/error_codes.py`, which also sets the 503.
"""

from __future__ import annotations

import errno
import logging
import socket
import traceback

import asyncpg
import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

log = logging.getLogger("aize.database")

UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "the database is unavailable; retry shortly"
# A PostgreSQL restart (crash recovery included) usually takes a few seconds.
RETRY_AFTER_SECONDS = 5

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


def unavailable_body() -> dict[str, dict[str, str]]:
    """The JSON error object of a 503 (same shape as the other HTTP-level errors)."""
    return {"error": {"code": UNAVAILABLE_CODE, "message": UNAVAILABLE_MESSAGE}}


def unavailable_response() -> Response:
    """503 with `Retry-After` (seconds) and the JSON error."""
    return Response(
        orjson.dumps(unavailable_body()),
        status_code=503,
        media_type="application/json",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def log_unavailable(where: str, exc: BaseException) -> None:
    """One warning line (no traceback: the cause is outside this process)."""
    log.warning("database unavailable during %s: %s: %s", where, type(exc).__name__, exc)


class DatabaseUnavailableMiddleware:
    """Answers 503 when an endpoint fails because the database is unavailable.

    Only while nothing of the response has been sent; otherwise the exception goes on to
    the server, which closes the connection. Other exceptions pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started or not is_database_unavailable(exc):
                raise
            log_unavailable(f"{scope.get('method', '')} {scope.get('path', '')}", exc)
            await unavailable_response()(scope, receive, send)
