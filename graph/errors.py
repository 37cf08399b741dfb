"""GraphQL errors with a stable `extensions.code`."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from graphql import GraphQLError, Node


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # The database cannot be reached: HTTP 503 with Retry-After (web/database_errors.py).
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


class CodedError(GraphQLError):
    """A GraphQL error whose message is safe for clients, with a code.

    `details` become further `extensions` entries (e.g. `limit`, `retryAfterSeconds`);
    `nodes` point the error at a place in the query.
    """

    code = ErrorCode.INTERNAL

    def __init__(
        self, message: str, nodes: Node | Sequence[Node] | None = None, **details: object
    ) -> None:
        super().__init__(message, nodes=nodes, extensions={"code": self.code.value, **details})


class BadUserInputError(CodedError):
    code = ErrorCode.BAD_USER_INPUT


class NotFoundGraphQLError(CodedError):
    code = ErrorCode.NOT_FOUND


class QueryTooComplexError(CodedError):
    """A query refused by a limit (depth, aliases, tokens, cost, time)."""

    code = ErrorCode.QUERY_TOO_COMPLEX


class RateLimitedError(CodedError):
    """The token's or the organization's budget cannot pay for this request now."""

    code = ErrorCode.RATE_LIMITED
