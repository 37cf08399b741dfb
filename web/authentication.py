"""Who is calling: the one authentication of the HTTP entry points (/graphql, /ingest/bulk,
/directory/bulk, /export/..., /reports/...): a bearer token in the Authorization header,
checked by auth/tokens.py. A WebSocket brings its token in `connection_init` instead and is
checked there, and again periodically (web/live_socket.py), by the same auth/tokens.py.

A plain function rather than Starlette's AuthenticationMiddleware: the middleware would look
up a token before routing, for every request (health checks, static files, the GraphiQL
page, /metrics with its own token), before /graphql refuses an oversized body unread
(web/body_limit.py), and with one refusal shape, where /graphql answers a GraphQL-shaped 401
and the other endpoints `{"error": ...}` (web/responses.py).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.tokens import TokenError, authenticate
from auth.viewer import Viewer
from web.responses import unauthenticated


async def request_viewer(connection: HTTPConnection) -> Viewer:
    """The caller named by the request's bearer token; TokenError (with a reason a client
    may see) when it is missing, malformed, unknown or revoked."""
    return await authenticate(connection.headers.get("authorization"))


async def viewer_or_refusal(connection: HTTPConnection) -> Viewer | Response:
    """The caller, or the 401 answering the request (the REST endpoints' JSON shape)."""
    try:
        return await request_viewer(connection)
    except TokenError as exc:
        return unauthenticated(exc.reason)
