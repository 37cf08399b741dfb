"""Give every error a stable code; mask unexpected ones behind an error id.

Every error leaves with one of the codes in `graph.errors.ErrorCode`:

- parse and validation errors (the client's own document) -> BAD_USER_INPUT, unless a limit
  rule already coded them QUERY_TOO_COMPLEX; "Did you mean ...?" suggestions are removed so
  error messages never reveal schema names the caller did not write;
- our own errors (CodedError, resolvers' ForbiddenError/NotFoundError/BadInputError) and
  permission refusals keep their message and code;
- argument coercion failures (bad enum, bad scalar) -> BAD_USER_INPUT;
- a database that cannot be reached (connection refused or cut, server starting up or
  shutting down) -> SERVICE_UNAVAILABLE, and the HTTP answer becomes 503 with `Retry-After`
  (web/database_errors.py): the client should retry, there is nothing to fix in the query;
- an ingest batch refused as busy (it waited too long for row locks other batches of its
  organization held, or past a statement timeout; `ingestion.lock_wait.IngestBusy`) ->
  SERVICE_UNAVAILABLE with its own message and `retryAfterSeconds`, HTTP 503 with that
  `Retry-After`;
- anything else, including an error carrying a code outside the stable list, reaches the
  client as "Unexpected error." with an `errorId`; the log keeps the traceback under the
  same id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.errors import CodedError, ErrorCode
from graph.extensions.request_state import aize_context
from ingestion.lock_wait import IngestBusy
from models.unavailability import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    is_database_unavailable,
    log_unavailable,
)
from resolvers.errors import BadInputError, ForbiddenError, NotFoundError

log = logging.getLogger("aize.graphql")

_KNOWN: dict[type[Exception], ErrorCode] = {
    ForbiddenError: ErrorCode.FORBIDDEN,
    NotFoundError: ErrorCode.NOT_FOUND,
    BadInputError: ErrorCode.BAD_USER_INPUT,
}
STABLE_CODES = frozenset(code.value for code in ErrorCode)
UNEXPECTED_MESSAGE = "Unexpected error."
# graphql-core appends suggestions to unknown field/argument/type/enum messages.
# hide_suggestions keeps them out (graph/execution.py, graph/extensions/document_cache.py);
# this catches any left, wherever in the message (input objects put them mid-sentence).
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the client should see it (an already coded error comes back as is)."""
    original = error.original_error
    code = (error.extensions or {}).get("code")
    if original is None:
        if code in STABLE_CODES:
            return error
        if code is None:
            # Parse and validation errors: the message is about the client's own document.
            message = _SUGGESTION.sub("", error.message)
            return _copy(error, message, {"code": ErrorCode.BAD_USER_INPUT.value})
        return _unexpected(error, error)
    if isinstance(original, CodedError):
        return _copy(error, original.message, original.extensions or {})
    if isinstance(original, IngestBusy):
        log.warning("GraphQL field %s refused as busy: %s", error.path, original)
        extensions = {
            "code": ErrorCode.SERVICE_UNAVAILABLE.value,
            "retryAfterSeconds": original.retry_after_seconds,
        }
        return _copy(error, str(original), extensions)
    if is_database_unavailable(original):
        log_unavailable(f"GraphQL field {error.path}", original)
        return _copy(error, UNAVAILABLE_MESSAGE, {"code": ErrorCode.SERVICE_UNAVAILABLE.value})
    if code in STABLE_CODES:
        return _copy(error, error.message, dict(error.extensions or {}))
    if isinstance(original, PermissionError) and code is None:
        return _copy(error, error.message, {"code": ErrorCode.FORBIDDEN.value})
    for known, known_code in _KNOWN.items():
        if isinstance(original, known):
            return _copy(error, str(original), {"code": known_code.value})
    if isinstance(original, GraphQLError) and code is None and _refused_input(original):
        # Argument and variable coercion failures from graphql-core (bad enum, bad scalar):
        # "Variable '$amount' has invalid value: ..." wraps the scalar's own refusal.
        message = _SUGGESTION.sub("", error.message)
        return _copy(error, message, {"code": ErrorCode.BAD_USER_INPUT.value})
    if error.path is None and code is None and isinstance(original, ValueError | TypeError):
        # A scalar refusing a literal written in the document (`amount: 1.5` for a Decimal):
        # graphql-core reports it while validating, before anything runs, hence no path.
        message = _SUGGESTION.sub("", error.message)
        return _copy(error, message, {"code": ErrorCode.BAD_USER_INPUT.value})
    return _unexpected(error, original)


def _refused_input(error: GraphQLError) -> bool:
    """Whether graphql-core reported a value it could not coerce: its own finding, or a
    scalar's parse_value refusing the value (scalars refuse with ValueError/TypeError)."""
    cause = error.original_error
    return cause is None or (error.path is None and isinstance(cause, ValueError | TypeError))


def _unexpected(error: GraphQLError, cause: BaseException) -> GraphQLError:
    error_id = uuid.uuid4().hex[:16]
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=cause)
    return _copy(error, UNEXPECTED_MESSAGE, {"code": ErrorCode.INTERNAL.value, "errorId": error_id})


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
            self._answer_unavailable(result.errors)

    def get_results(self) -> dict[str, object]:
        # An exception raised by an extension hook skips on_operation's clean-up, but
        # strawberry still asks every extension for results with the outgoing errors in
        # `pre_execution_errors` (the very list it returns): code those in place.
        errors = self.execution_context.pre_execution_errors
        if isinstance(errors, list) and errors:
            errors[:] = [coded(e) for e in errors]
            self._answer_unavailable(errors)
        return {}

    def _answer_unavailable(self, errors: list[GraphQLError]) -> None:
        # Part of the answer may have been computed, but the client has to retry anyway:
        # 503 tells load balancers and retrying clients so, like the other endpoints do.
        unavailable = ErrorCode.SERVICE_UNAVAILABLE.value
        waits = [
            int(str((e.extensions or {}).get("retryAfterSeconds", RETRY_AFTER_SECONDS)))
            for e in errors
            if (e.extensions or {}).get("code") == unavailable
        ]
        if not waits:
            return
        context = aize_context(self.execution_context)
        if context is not None and context.response is not None:
            context.response.status_code = 503
            context.response.headers["retry-after"] = str(max(waits))
