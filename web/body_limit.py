"""Refuse /graphql requests larger than AIZE_MAX_REQUEST_BYTES (HTTP 413), without reading them.

A POST announcing a larger `Content-Length`, or a GET whose query string is longer, is
refused before its body is read. A body sent without a length (chunked) is counted while it
is read, and refused as soon as it passes the limit: never more than the limit plus one
chunk is buffered. The answer is shaped like GraphQL errors, with the limit in
`extensions.limit`.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope

from graph.errors import ErrorCode


class RequestTooLarge(Exception):
    """The request's body (or query string) is over the limit; `response()` says so."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request larger than {limit} bytes")
        self.limit = limit

    def response(self) -> JSONResponse:
        """HTTP 413 naming the limit: {"errors": [{"message", "extensions": {code, limit}}]}."""
        message = (
            f"The request is larger than {self.limit} bytes (AIZE_MAX_REQUEST_BYTES); "
            "send large batches of request logs to POST /ingest/bulk."
        )
        extensions = {"code": ErrorCode.BAD_USER_INPUT.value, "limit": self.limit}
        return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, 413)


def check_declared_size(scope: Scope, limit: int) -> None:
    """Raise RequestTooLarge when the query string, or the announced body, is over `limit`."""
    if len(scope.get("query_string", b"")) > limit:
        raise RequestTooLarge(limit)
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                return  # the server (uvicorn, h11) refuses a malformed length itself
            if declared > limit:
                raise RequestTooLarge(limit)


def bounded_receive(receive: Receive, limit: int) -> Receive:
    """`receive`, raising RequestTooLarge once the body read so far passes `limit` bytes."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise RequestTooLarge(limit)
        return message

    return receive_within_limit
