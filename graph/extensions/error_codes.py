"""Give every error a stable code; mask unexpected ones behind an error id.

Known errors (our own, permission refusals, bad input) keep their message and get a code in
`extensions.code`. Anything else reaches the client as "Unexpected error." with an
`errorId`; the server log keeps the traceback under the same id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.errors import CodedError, ErrorCode
from resolvers.errors import BadInputError, ForbiddenError, NotFoundError

log = logging.getLogger("aize.graphql")

_KNOWN: dict[type[Exception], ErrorCode] = {
    ForbiddenError: ErrorCode.FORBIDDEN,
    NotFoundError: ErrorCode.NOT_FOUND,
    BadInputError: ErrorCode.BAD_USER_INPUT,
}


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the client should see it."""
    original = error.original_error
    if original is None:
        # Parse and validation errors: the message is about the client's own document.
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return error
    if isinstance(original, CodedError):
        return _copy(error, original.message, original.extensions or {})
    if isinstance(original, PermissionError) or (error.extensions or {}).get("code"):
        code = (error.extensions or {}).get("code", ErrorCode.FORBIDDEN.value)
        return _copy(error, error.message, {**(error.extensions or {}), "code": code})
    for known, code in _KNOWN.items():
        if isinstance(original, known):
            return _copy(error, str(original), {"code": code.value})
    if isinstance(original, GraphQLError) and original.original_error is None:
        # Argument coercion failures from graphql-core (bad enum, bad scalar).
        return _copy(error, error.message, {"code": ErrorCode.BAD_USER_INPUT.value})
    error_id = uuid.uuid4().hex[:16]
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=original)
    return _copy(
        error, "Unexpected error.", {"code": ErrorCode.INTERNAL.value, "errorId": error_id}
    )


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None) if result is not None else None
        if result is not None and errors:
            result.errors = [coded(e) for e in errors]
