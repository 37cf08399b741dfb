"""GraphQL errors with a stable `extensions.code`."""

from __future__ import annotations

from enum import StrEnum

from graphql import GraphQLError


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL = "INTERNAL"


class CodedError(GraphQLError):
    """A GraphQL error whose message is safe for clients, with a code."""

    code = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code.value})


class ForbiddenGraphQLError(CodedError):
    code = ErrorCode.FORBIDDEN


class BadUserInputError(CodedError):
    code = ErrorCode.BAD_USER_INPUT


class NotFoundGraphQLError(CodedError):
    code = ErrorCode.NOT_FOUND
