"""The Starlette application: /graphql (GraphiQL in a browser), /usage (the usage page),
/healthz, /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson

# strawberry's own HTTP layer (cross_web) raises these; we render them as coded JSON.
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

# What strawberry raises for an operation type the HTTP method does not allow (a mutation
# over GET); no public name exports it.
from alerts.worker import AlertWorker
from auth.tokens import TokenError
from auth.viewer import Viewer
from coordination.leadership import Leadership
from graph.context import Context
from graph.errors import ErrorCode
from graph.rate_limiter import RateLimiter
from graph.schema import schema_for
from ingestion.fold_worker import start_folder
from ingestion.folding import configure_folding
from ingestion.gc_tuning import freeze_startup_objects
from live.listener import NotificationListener
from live.slots import SubscriptionSlots
from maintenance.runner import start_maintenance
from models import read_replicas
from models.database import (
    close_database,
    connection,
    init_database,
    server_statement_timeout_ms,
)
from observability.metrics import DB_POOL_MAX
from observability.tracing import instrument_app
from reports.scheduler import start_report_scheduler
from settings import Settings
from web.authentication import request_viewer
from web.body_limit import RequestTooLarge, bounded_receive, check_declared_size
from web.database_errors import (
    RETRY_AFTER_SECONDS,
    DatabaseUnavailableMiddleware,
    unavailable_body,
)
from web.directory_endpoint import bulk_directory
from web.export_routes import EXPORT_ROUTES
from web.graphiql.page import ASSETS_PATH, IdePage, ide_page
from web.graphql_http import (
    ALLOW_POST,
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    content_type,
    graphql_error_response,
    response_media_type,
)
from web.http_metrics import HttpMetrics
from web.ingest_endpoint import bulk_ingest
from web.live_socket import BoundedWebSocketAdapter, LiveTransportWSHandler
from web.metrics_endpoint import metrics
from web.rate_limit_http import refuse_when_spent
from web.request_json import decode_request_json
from web.responses import BEARER_CHALLENGE
from web.security_headers import SecurityHeaders, ide_csp
from web.url_secrets import RefuseSecretsInUrl, install_access_log_redaction
from web.usage_page.routes import USAGE_PAGE_ROUTES

log = logging.getLogger("aize.app")


SUBSCRIPTION_NEEDS_STREAM = (
    "A subscription needs a stream: a WebSocket (graphql-transport-ws), or this request with "
    'Accept: multipart/mixed;subscriptionSpec="1.0",application/json or text/event-stream.'
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


# A WebSocket's context until `connection_init` brings a token (web/live_socket.py).
NO_VIEWER = Viewer(token_id=0, organization_id=0, member_id=None, role=None, scopes=frozenset())
# Subscriptions: graphql-transport-ws on WebSockets; over plain HTTP, multipart subscriptions
# (Accept: multipart/mixed;subscriptionSpec=1.0) and server-sent events (Accept:
# text/event-stream). The legacy subscriptions-transport-ws protocol is not offered.
SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
)


class AizeGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LiveTransportWSHandler
    websocket_adapter_class = BoundedWebSocketAdapter

    def __init__(self, graphql_schema: BaseSchema, settings: Settings) -> None:
        super().__init__(
            graphql_schema,
            # Our own GraphiQL page (web/graphiql/): strawberry's loads from a CDN.
            graphql_ide=None,
            allow_queries_via_get=True,
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            allowed_origins=settings.cors_origins,
        )
        # Read by BoundedWebSocketAdapter: the largest client message accepted.
        self.max_message_bytes = settings.max_subscription_message_bytes

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        if isinstance(request, WebSocket):
            return Context(request=request, response=None, viewer=NO_VIEWER)
        assert response is None or isinstance(response, Response)
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
            result = await self._execute_operation(
                request_adapter, context, root_value, request_data
            )
        except HTTPException as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, InvalidOperationTypeError)
                and cause.operation_type is OperationType.MUTATION
            ):
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

    async def _execute_operation(
        self,
        request_adapter: AsyncHTTPRequestAdapter,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # As strawberry does, except that a subscription sent as a plain request (no
        # stream asked for) is refused with a clear 400 rather than run as a query.
        allowed = {OperationType.QUERY}
        if request_adapter.method == "POST":
            allowed.add(OperationType.MUTATION)
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_NEEDS_STREAM) from exc
            raise HTTPException(400, exc.as_http_error_reason(request_adapter.method)) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc

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
    it sends do, through its headers editor. The page is ours (web/graphiql/): strawberry's
    loads its scripts from a CDN, so its IDE is off.
    """

    def __init__(self, graphql_schema: BaseSchema, settings: Settings) -> None:
        self.graphql = AizeGraphQL(graphql_schema, settings)
        self.ide: IdePage = ide_page()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        # Refused before authenticating or reading anything (web/body_limit.py).
        max_bytes = _settings(scope).max_request_bytes
        try:
            check_declared_size(scope, max_bytes)
        except RequestTooLarge as exc:
            await exc.response()(scope, receive, send)
            return
        request = Request(scope)
        if _wants_ide(request):
            # Served here: strawberry would build a Context first, and there is no viewer.
            await HTMLResponse(self.ide.html)(scope, receive, send)
            return
        try:
            viewer = await request_viewer(request)
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
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    replicas = read_replicas.configured()
    if replicas is not None:
        # As of the last periodic check; a replica that is down leaves the service healthy
        # (its reads go to the primary), so it never makes this a 503.
        body["readReplicas"] = {s.label: s.state.value for s in replicas.statuses}
    return JSONResponse(body)


def create_app(
    settings: Settings, *, manage_database: bool = True, graphql_schema: BaseSchema | None = None
) -> Starlette:
    """The ASGI app. With manage_database, start-up connects (and migrates SQLite).

    The product schema runs on the executor AIZE_FAST_EXECUTOR chooses (graph/schema.py);
    `graphql_schema` is for tests that need resolvers the product schema does not have.
    """
    if graphql_schema is None:
        graphql_schema = schema_for(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await init_database(
                settings,
                migrate=settings.is_sqlite,
                statement_timeout_ms=server_statement_timeout_ms(settings),
            )
            if not settings.is_sqlite:
                DB_POOL_MAX.set(settings.db_pool_max)
        # A serving process runs the background work below only while it leads
        # (coordination/leadership.py); without a database of its own (tests) it always runs.
        leadership = (
            Leadership(settings.leader_lease_seconds, enabled=settings.leader_election)
            if manage_database
            else None
        )
        app.state.leadership = leadership
        if leadership is not None:
            leadership.start()
        stop_reports = start_report_scheduler(settings, leadership)
        # request_log partitions ahead of time, retention, old request ids: now and hourly.
        stop_maintenance = (
            start_maintenance(settings, leadership=leadership) if manage_database else None
        )
        configure_folding(settings.rollup_folding)
        # Rollups of deferred ingest folded by the leader (ingestion/fold_worker.py).
        stop_folder = (
            start_folder(settings, leadership)
            if manage_database and not settings.is_sqlite
            else None
        )
        if manage_database:
            # A serving process: full collections never rescan what start-up built.
            freeze_startup_objects()
        # Checks usage rules and sends alert deliveries (AIZE_ALERT_WORKER; off in tests).
        alert_worker = (
            AlertWorker(settings, leadership=leadership) if settings.alert_worker else None
        )
        if alert_worker is not None:
            alert_worker.start()
        # Subscriptions across processes: commits announced by PostgreSQL NOTIFY.
        listener = None if settings.is_sqlite else NotificationListener(settings.database_url)
        if listener is not None:
            listener.start()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await app.state.subscription_slots.stop()
            if alert_worker is not None:
                await alert_worker.stop()
            await stop_reports()
            if stop_maintenance is not None:
                await stop_maintenance()
            if stop_folder is not None:
                await stop_folder()
            if leadership is not None:
                await leadership.stop()
            if manage_database:
                await close_database()

    # Whoever runs uvicorn, its access log never shows a secret sent in a URL.
    install_access_log_redaction()
    graphql = AuthenticatedGraphQL(graphql_schema, settings)
    middleware = [
        # Outermost: counts and times every answer, whoever gives it (observability/).
        Middleware(HttpMetrics),
        Middleware(SecurityHeaders, html_csp=ide_csp(graphql.ide.html)),
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
        # Subscriptions (graphql-transport-ws); the token comes in connection_init.
        WebSocketRoute("/graphql", graphql),
        Route("/ingest/bulk", bulk_ingest, methods=["POST"]),
        Route("/directory/bulk", bulk_directory, methods=["POST"]),
        *EXPORT_ROUTES,
        # The usage page (static files; its token goes to /graphql like any client's).
        *USAGE_PAGE_ROUTES,
    ]
    if settings.metrics_token is not None:
        # Only for a scraper holding AIZE_METRICS_TOKEN (docs/readme/integrations.md).
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    if graphql.ide.assets is not None:
        # GraphiQL's own files, fetched from npm by `aize-analytics fetch-graphiql`.
        routes.append(Mount(ASSETS_PATH, StaticFiles(directory=graphql.ide.assets)))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    # In this process's memory, or shared in Redis with AIZE_REDIS_URL (see SECURITY.md).
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    # Subscriptions per token: in this process, or counted in Redis with AIZE_REDIS_URL.
    app.state.subscription_slots = SubscriptionSlots(
        settings.redis_url, ttl_seconds=settings.subscription_slot_ttl_seconds
    )
    if settings.otel_traces:
        instrument_app(app, graphql_schema)
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory web.app:app_from_env` (several workers)."""
    return create_app(Settings.from_env())
