"""The JSON answers of the HTTP endpoints outside GraphQL (ingest, directory, exports,
reports, and their 401, 429 and 503 refusals): one shape, `{"error": {"code", "message",
...}}`, with the codes of `graph.errors.ErrorCode` (plus PAYLOAD_TOO_LARGE for a bulk body).

/graphql answers GraphQL-shaped errors instead (web/graphql_http.py), as GraphQL clients
expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

# Sent with every 401 (RFC 6750): the API takes a bearer token in the Authorization header.
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aize-analytics"'}


def json_response(
    payload: Mapping[str, Any], status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """`payload` as a JSON response."""
    return Response(orjson.dumps(payload), status_code, headers, media_type="application/json")


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """`{"error": {"code", "message", ...extra}}` with the status (`code` an ErrorCode, a
    StrEnum, or a code of the REST endpoints' own such as PAYLOAD_TOO_LARGE)."""
    return json_response(
        {"error": {"code": str(code), "message": message, **extra}}, status_code, headers
    )


def unauthenticated(reason: str) -> Response:
    """401 naming the problem, with the bearer challenge."""
    return error_response(401, "UNAUTHENTICATED", reason, headers=BEARER_CHALLENGE)
