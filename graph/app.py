"""The Starlette application: /graphql (GraphiQL in a browser), /healthz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

# strawberry's own HTTP layer (cross_web) raises these; we render them as coded JSON.
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema

# What strawberry raises for an operation type the HTTP method does not allow (a mutation
# over GET); no public name exports it.
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from alerts.worker import AlertWorker
from auth.tokens import TokenError, authenticate
from graph.body_limit import RequestTooLarge, bounded_receive, check_declared_size
from graph.context import Context
from graph.database_errors import (
    RETRY_AFTER_SECONDS,
    DatabaseUnavailableMiddleware,
    unavailable_body,
)
from graph.directory_endpoint import bulk_directory
from graph.errors import ErrorCode
from graph.export_routes import EXPORT_ROUTES
from graph.graphql_http import (
    ALLOW_POST,
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    content_type,
    graphql_error_response,
    response_media_type,
)
from graph.ingest_endpoint import bulk_ingest
from graph.rate_limit_http import refuse_when_spent
from graph.rate_limiter import RateLimiter
from graph.request_json import decode_request_json
from graph.schema import schema
from graph.security_headers import SecurityHeaders, ide_csp
from graph.url_secrets import RefuseSecretsInUrl, install_access_log_redaction
from ingestion.gc_tuning import freeze_startup_objects
from maintenance.runner import start_maintenance
from models.database import (
    close_database,
    connection,
    init_database,
    server_statement_timeout_ms,
)
from reports.scheduler import start_report_scheduler
from settings import Settings

log = logging.getLogger("aize.app")


BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aize-analytics"'}


def unauthenticated(reason: str) -> JSONResponse:
    """401 with a JSON body naming the problem (the REST endpoints' `{"error": ...}` shape)."""
    return JSONResponse(
        {"error": {"code": "UNAUTHENTICATED", "message": reason}},
        status_code=401,
        headers=BEARER_CHALLENGE,
    )


OPERATION_NAME_NOT_A_STRING = (
    "The GraphQL operation's `operationName` must be a string or null, if provided."
)
BATCH_REFUSED = (
    "Batched operations are not accepted: send one operation per request "
    "(a JSON object, not an array)."
)
# Sent to browsers so dashboards can read the budget (CORS hides other headers).
RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


class OperationNeedsPost(HTTPException):
    """A mutation sent with GET: 405 with `Allow: POST`, as the GraphQL over HTTP spec asks."""

    def __init__(self, reason: str) -> None:
        super().__init__(405, reason)


class RequestError(ExecutionResult):
    """A result that never executed: the document did not parse or validate, a variable
    could not be coerced, or a limit refused it (the spec's "request error")."""


class AizeGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request, response: Response | None) -> Context:  # type: ignore[override]
        return Context(request=request, response=response, viewer=request.state.viewer)

    def decode_json(self, data: str | bytes) -> object:
        return decode_request_json(data)

    def encode_json(self, data: object) -> bytes:
        # orjson: a dashboard answer is ~40 kB; the stdlib encoder took ~1 ms of it.
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # As strawberry does, but HTTP-level refusals (bad JSON, no query, a batch) are
        # GraphQL errors with a code instead of plain text, in the negotiated media type.
        request = Request(scope=scope, receive=receive)
        media_type = response_media_type(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except HTTPException as exc:
            headers = ALLOW_POST if isinstance(exc, OperationNeedsPost) else None
            response = graphql_error_response(
                exc.reason, ErrorCode.BAD_USER_INPUT, exc.status_code, media_type, headers
            )
        else:
            if response.media_type == APPLICATION_JSON:
                response.headers["content-type"] = content_type(media_type)
        await response(scope, receive, send)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """strawberry's execution; a mutation over GET is a 405, and a request error is
        marked (a RequestError) so it answers 400 without `data` for clients accepting
        application/graphql-response+json."""
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise OperationNeedsPost(exc.reason) from exc
            raise
        if result.data is not None or context.operation_executed:
            return result
        # Limits that chose their own status (429, 503, 400) keep it.
        accept = request.headers.get("accept")
        if (
            response_media_type(accept) == GRAPHQL_RESPONSE_JSON
            and sub_response.status_code is None
        ):
            sub_response.status_code = 400
        return RequestError(data=None, errors=result.errors, extensions=result.extensions)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """strawberry's response body; a request error has no `data` entry when the client
        accepts application/graphql-response+json (legacy application/json keeps null)."""
        body = await super().process_result(request, result)
        if isinstance(result, RequestError) and (
            response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON
        ):
            body.pop("data", None)
        return body

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # One operation per request: a batch would multiply the work behind one rate-limit
        # check, so arrays are refused whatever strawberry's batching setting.
        is_json = "json" in (request.content_type or "")
        if request.method == "POST" and is_json and (await request.get_body()).lstrip()[:1] == b"[":
            raise HTTPException(400, BATCH_REFUSED)
        parsed = await super().parse_http_body(request)
        # strawberry checks `query`, `variables` and `extensions`, not this one.
        if isinstance(parsed, GraphQLRequestData) and not isinstance(
            parsed.operation_name, str | None
        ):
            raise HTTPException(400, OPERATION_NAME_NOT_A_STRING)
        return parsed


class AuthenticatedGraphQL:
    """Authenticates every GraphQL request before strawberry sees it.

    The GraphiQL page itself (a browser GET asking for HTML) needs no token; the queries
    it sends do, through its headers editor.
    """

    def __init__(self, graphql_schema: BaseSchema = schema) -> None:
        self.graphql = AizeGraphQL(
            graphql_schema, graphql_ide="graphiql", allow_queries_via_get=True
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        # Refused before authenticating or reading anything (graph/body_limit.py).
        max_bytes = _settings(scope).max_request_bytes
        try:
            check_declared_size(scope, max_bytes)
        except RequestTooLarge as exc:
            await exc.response()(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request):
            # Served here: strawberry would build a Context first, and there is no viewer.
            await HTMLResponse(self.graphql.graphql_ide_html)(scope, receive, send)
            return
        try:
            viewer = await authenticate(request.headers.get("authorization"))
        except TokenError as exc:
            # A GraphQL-shaped 401, so GraphQL clients (gql, Apollo) show the reason.
            refusal = graphql_error_response(
                exc.reason,
                ErrorCode.UNAUTHENTICATED,
                401,
                response_media_type(request.headers.get("accept")),
                BEARER_CHALLENGE,
            )
            await refusal(scope, receive, send)
            return
        # A spent budget is answered before the body is read or parsed.
        spent = await refuse_when_spent(request, viewer, graphql=True)
        if spent is not None:
            await spent(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = viewer
        try:
            await self.graphql(scope, bounded_receive(receive, max_bytes), send)
        except RequestTooLarge as exc:
            await exc.response()(scope, receive, send)


def _settings(scope: Scope) -> Settings:
    app = scope.get("app")
    settings = getattr(app.state, "settings", None) if app is not None else None
    return settings if isinstance(settings, Settings) else Settings()


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


# A server that neither answers nor refuses (packets dropped) must not hang the probe.
HEALTH_CHECK_TIMEOUT_SECONDS = 5


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 (with the reason and Retry-After) when it does not."""
    try:
        async with asyncio.timeout(HEALTH_CHECK_TIMEOUT_SECONDS):
            await connection().execute_query("SELECT 1")
    except Exception as exc:  # any driver failure (or the timeout) means "not healthy"
        log.warning("health check failed: %s: %s", type(exc).__name__, exc)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", **unavailable_body()},
            503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(
    settings: Settings, *, manage_database: bool = True, graphql_schema: BaseSchema = schema
) -> Starlette:
    """The ASGI app. With manage_database, start-up connects (and migrates SQLite).

    `graphql_schema` is for tests that need resolvers the product schema does not have.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await init_database(
                settings,
                migrate=settings.is_sqlite,
                statement_timeout_ms=server_statement_timeout_ms(settings),
            )
        stop_reports = start_report_scheduler(settings)
        # request_log partitions ahead of time, retention, old request ids: now and hourly.
        stop_maintenance = start_maintenance(settings) if manage_database else None
        if manage_database:
            # A serving process: full collections never rescan what start-up built.
            freeze_startup_objects()
        # Checks usage rules and sends alert deliveries (AIZE_ALERT_WORKER; off in tests).
        alert_worker = AlertWorker(settings) if settings.alert_worker else None
        if alert_worker is not None:
            alert_worker.start()
        try:
            yield
        finally:
            if alert_worker is not None:
                await alert_worker.stop()
            await stop_reports()
            if stop_maintenance is not None:
                await stop_maintenance()
            if manage_database:
                await close_database()

    # Whoever runs uvicorn, its access log never shows a secret sent in a URL.
    install_access_log_redaction()
    graphql = AuthenticatedGraphQL(graphql_schema)
    middleware = [
        Middleware(SecurityHeaders, html_csp=ide_csp(graphql.graphql.graphql_ide_html)),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=[*RATE_LIMIT_HEADERS, "retry-after"],
            max_age=600,
        ),
        # Tokens only in the Authorization header: a URL carrying one is refused (400).
        Middleware(RefuseSecretsInUrl),
        # Innermost, so its 503s get the CORS and security headers too.
        Middleware(DatabaseUnavailableMiddleware),
    ]
    routes: list[Any] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/ingest/bulk", bulk_ingest, methods=["POST"]),
        Route("/directory/bulk", bulk_directory, methods=["POST"]),
        *EXPORT_ROUTES,
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    # In this process's memory, or shared in Redis with AIZE_REDIS_URL (see SECURITY.md).
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory graph.app:app_from_env` (several workers)."""
    return create_app(Settings.from_env())
