"""Secrets never travel in URLs: refused with 400, and redacted from the access log.

URLs are written to access logs (uvicorn's, every proxy's) and kept in browser histories;
a bearer token there is as good as published. Tokens belong in the `Authorization` header
only, so:

- `RefuseSecretsInUrl` (ASGI middleware) answers 400 `BAD_USER_INPUT`, before anything
  else runs, to a request whose query string has a secret-looking parameter
  (`access_token`, `token`, `api_key`...) or anything shaped like one of our tokens;
- `RedactSecretsInAccessLog` (a logging filter on `uvicorn.access`, installed by the app
  factory, so under every way of running uvicorn) replaces those values, and any token
  anywhere in the logged URL, with `[REDACTED]`: the refused request is logged too.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.tokens import TOKEN_PREFIX

SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "accesstoken",
        "token",
        "auth",
        "authorization",
        "bearer",
        "api_key",
        "apikey",
        "key",
        "secret",
        "password",
    }
)
REDACTED = "[REDACTED]"
REFUSAL = (
    "Send the access token in the Authorization header (Authorization: Bearer <token>), "
    "never in the URL: URLs are written to access logs."
)
ACCESS_LOGGER = "uvicorn.access"
# Our tokens' shape (auth/tokens.py), loosely: a shortened one is still a secret's start.
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{8,}")


def _is_secret(piece: str) -> bool:
    """Whether one `name=value` piece of a query string carries a secret."""
    name = unquote_plus(piece.partition("=")[0]).strip().lower()
    return name in SECRET_PARAMETERS or _TOKEN.search(unquote_plus(piece)) is not None


def has_secret(query_string: str) -> bool:
    """Whether a raw (percent-encoded) query string carries a secret."""
    return any(_is_secret(piece) for piece in query_string.split("&") if piece)


def redact_url(url: str) -> str:
    """The path and query string with every secret value replaced by [REDACTED]."""
    path, separator, query = url.partition("?")
    path = _TOKEN.sub(REDACTED, path)
    if _TOKEN.search(unquote(path)):
        path = REDACTED  # a token spelled with percent-escapes
    if not separator:
        return path
    pieces = []
    for piece in query.split("&"):
        if _is_secret(piece):
            name, equals, _ = piece.partition("=")
            keep_name = equals and not _TOKEN.search(unquote_plus(name))
            piece = f"{name}={REDACTED}" if keep_name else REDACTED
        pieces.append(piece)
    return f"{path}?{'&'.join(pieces)}"


class RedactSecretsInAccessLog(logging.Filter):
    """Redacts secrets in the URL of uvicorn's access log records (their arguments are
    client, method, path with query string, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_access_log_redaction() -> None:
    """Add the filter to uvicorn's access logger, once per process. uvicorn's logging
    configuration (dictConfig) keeps filters already on the logger."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecretsInAccessLog) for f in logger.filters):
        logger.addFilter(RedactSecretsInAccessLog())


class RefuseSecretsInUrl:
    """ASGI middleware: 400 for a request carrying a secret in its query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if not query or not has_secret(query.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        error = {"message": REFUSAL, "extensions": {"code": "BAD_USER_INPUT"}}
        # /graphql answers GraphQL-shaped errors; the REST endpoints their `error` object.
        is_graphql = scope.get("path", "").startswith("/graphql")
        body = (
            {"errors": [error]}
            if is_graphql
            else {"error": {"code": "BAD_USER_INPUT", "message": REFUSAL}}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": orjson.dumps(body)})
