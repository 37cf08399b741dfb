"""The Starlette application: /graphql (GraphiQL in a browser), /healthz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from auth.tokens import TokenError, authenticate
from graph.context import Context
from graph.schema import schema
from models.database import close_database, connection, init_database
from settings import Settings

log = logging.getLogger("aize.app")


def unauthenticated(reason: str) -> JSONResponse:
    """401 with a JSON body naming the problem."""
    return JSONResponse(
        {"error": {"code": "UNAUTHENTICATED", "message": reason}},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="aize-analytics"'},
    )


class AizeGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request, response: Response | None) -> Context:  # type: ignore[override]
        return Context(request=request, response=response, viewer=request.state.viewer)


class AuthenticatedGraphQL:
    """Authenticates every GraphQL request before strawberry sees it.

    The GraphiQL page itself (a browser GET asking for HTML) needs no token; the queries
    it sends do, through its headers editor.
    """

    def __init__(self) -> None:
        self.graphql = AizeGraphQL(schema, graphql_ide="graphiql", allow_queries_via_get=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request):
            await self.graphql(scope, receive, send)
            return
        try:
            viewer = await authenticate(request.headers.get("authorization"))
        except TokenError as exc:
            await unauthenticated(exc.reason)(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = viewer
        await self.graphql(scope, receive, send)


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 (with the reason) when it does not."""
    try:
        await connection().execute_query("SELECT 1")
    except Exception as exc:  # any driver failure means "not healthy"
        log.warning("health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings, *, manage_database: bool = True) -> Starlette:
    """The ASGI app. With manage_database, start-up connects (and migrates SQLite)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await init_database(settings, migrate=settings.is_sqlite)
        try:
            yield
        finally:
            if manage_database:
                await close_database()

    graphql = AuthenticatedGraphQL()
    routes: list[Any] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory graph.app:app_from_env` (several workers)."""
    return create_app(Settings.from_env())
