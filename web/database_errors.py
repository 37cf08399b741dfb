"""When the database cannot be reached, or is too busy, answer 503 with `Retry-After`, not 500.

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
- `busy_response(exc)`: the same answer for an ingest batch refused because it waited too
  long for row locks other batches of its organization held, or a statement outlasted its
  timeout (`ingestion.lock_wait.IngestBusy`: nothing stored, resend after `Retry-After`),
  with the refusal's own message and `retryAfterSeconds`;
- `DatabaseUnavailableMiddleware`: turns such an exception escaping any endpoint (token
  lookup, bulk ingest, ...) into that answer. GraphQL execution errors are coded
  `SERVICE_UNAVAILABLE` by `graph/extensions/error_codes.py`, which also sets the 503.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingestion.lock_wait import IngestBusy
from models.unavailability import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    is_database_unavailable,
    log_unavailable,
)
from web.responses import error_response

# Re-exported for the endpoints: the constants and checks live one layer down, where the
# GraphQL error extension can use them too.
__all__ = [
    "RETRY_AFTER_SECONDS",
    "UNAVAILABLE_CODE",
    "UNAVAILABLE_MESSAGE",
    "DatabaseUnavailableMiddleware",
    "busy_response",
    "is_database_unavailable",
    "log_unavailable",
    "unavailable_body",
    "unavailable_response",
]


def unavailable_body() -> dict[str, dict[str, str]]:
    """The JSON error object of a 503 (same shape as the other HTTP-level errors)."""
    return {"error": {"code": UNAVAILABLE_CODE, "message": UNAVAILABLE_MESSAGE}}


def unavailable_response() -> Response:
    """503 with `Retry-After` (seconds) and the JSON error."""
    return error_response(
        503,
        UNAVAILABLE_CODE,
        UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def busy_response(exc: IngestBusy) -> Response:
    """503 with `Retry-After` (seconds) and `{"error": {"code": "SERVICE_UNAVAILABLE",
    "message", "retryAfterSeconds"}}` for a batch refused as busy."""
    return error_response(
        503,
        UNAVAILABLE_CODE,
        str(exc),
        headers={"Retry-After": str(exc.retry_after_seconds)},
        retryAfterSeconds=exc.retry_after_seconds,
    )


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
