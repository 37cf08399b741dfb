"""GET /metrics: the Prometheus text format, for a scraper holding AIZE_METRICS_TOKEN.

Without the setting the route does not exist (404): nothing about the service's traffic is
public by default. The token is compared in constant time; a wrong or missing one is a 401
with `WWW-Authenticate`, as for the API. With PROMETHEUS_MULTIPROC_DIR set, the answer adds
up every worker's files (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.rollup_lag import fold_lag
from settings import Settings
from web.metrics_fold_lag import FoldLagCollector
from web.metrics_organization_spend import OrganizationSpendCollector, read_organization_spend

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _refused(reason: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="aize-analytics metrics"'},
    )


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def process_metrics() -> bytes:
    """This process's metrics, or every worker's in multiprocess mode."""
    if os.environ.get(MULTIPROC_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:  # the route is not mounted then; kept as a backstop
        return JSONResponse({"errors": [{"message": "Not found."}]}, status_code=404)
    if not _authorized(request.headers.get("authorization"), settings.metrics_token):
        return _refused("/metrics needs `Authorization: Bearer <AIZE_METRICS_TOKEN>`.")
    body = process_metrics()
    if not settings.is_sqlite:
        # The rollup folder's lag, from the database (SQLite folds at ingest: none).
        registry = CollectorRegistry()
        registry.register(FoldLagCollector(await fold_lag()))
        body += generate_latest(registry)
    if settings.metrics_organization_spend:
        spends = await read_organization_spend(settings.metrics_organization_limit)
        registry = CollectorRegistry()
        registry.register(OrganizationSpendCollector(spends))
        body += generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
