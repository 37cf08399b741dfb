"""GraphQL over HTTP (the GraphQL Foundation's spec): media types, status codes, error bodies.

Two response media types, chosen from the request's `Accept` header:
- `application/graphql-response+json` when the client lists it (at a quality at least that
  of `application/json`): a request error (the document does not parse or validate, a
  variable cannot be coerced, a limit refuses the document) answers 4xx and its body has
  no `data` entry; a response that executed answers 200 even when `data` is null.
- `application/json` otherwise (the legacy media type, also for `*/*` and a missing Accept):
  as before, every GraphQL result answers 200, request errors with `"data": null`.
HTTP-level refusals (bad JSON, no query, a batch, a missing or bad token, a mutation over
GET) are GraphQL-shaped bodies, `{"errors": [{"message", "extensions": {"code"}}]}`, in the
negotiated media type, so GraphQL clients show the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from graph.errors import ErrorCode

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
# The spec's own example of the header (charset optional for JSON; stated for clarity).
_CONTENT_TYPES = {
    GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
    APPLICATION_JSON: APPLICATION_JSON,
}
# A mutation (or subscription) sent with GET: the spec's answer, 405 with this header.
ALLOW_POST = {"allow": "POST"}


def response_media_type(accept: str | None) -> str:
    """GRAPHQL_RESPONSE_JSON when the Accept header lists it at a quality at least that of
    application/json (and above 0), APPLICATION_JSON otherwise (a missing header included)."""
    if not accept:
        return APPLICATION_JSON
    graphql_quality, json_quality = 0.0, 0.0
    for entry in accept.split(","):
        media_range, _, parameters = entry.strip().partition(";")
        quality = _quality(parameters)
        media_range = media_range.strip().lower()
        if media_range == GRAPHQL_RESPONSE_JSON:
            graphql_quality = max(graphql_quality, quality)
        elif media_range in (APPLICATION_JSON, "application/*", "*/*"):
            json_quality = max(json_quality, quality)
    if graphql_quality > 0 and graphql_quality >= json_quality:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def _quality(parameters: str) -> float:
    """The `q` of a media range's parameters (1 when absent, 0 when unreadable)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def content_type(media_type: str) -> str:
    """The Content-Type header value for a negotiated media type."""
    return _CONTENT_TYPES[media_type]


def graphql_error_response(
    message: str,
    code: ErrorCode,
    status_code: int,
    media_type: str = APPLICATION_JSON,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An HTTP-level refusal shaped as a GraphQL response: `{"errors": [...]}`, no `data`."""
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    response = Response(orjson.dumps(body), status_code, headers=dict(headers or {}))
    response.headers["content-type"] = content_type(media_type)
    return response
