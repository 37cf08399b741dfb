"""Refuse documents longer than AIZE_MAX_QUERY_TOKENS lexical tokens (QUERY_TOO_COMPLEX).

Parsing happens before any other check, so an oversized document must be stopped while it
is being read: graphql-core's `max_tokens` aborts the parser at the limit (comments count,
so padding with comments does not get around it). This extension turns that syntax error
into a coded one.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode
from graph.extensions.request_state import query_limits

# The end of graphql-core's message when `max_tokens` stops the parser.
_ABORTED = "tokens. Parsing aborted."


class QueryTokenLimit(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        limit = query_limits(self.execution_context).max_tokens
        self.execution_context.parse_options["max_tokens"] = limit
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if is_token_limit_error(error):
                # Rewritten in place: strawberry already holds this error in its result.
                error.message = (
                    f"The query has more than {limit} tokens; at most {limit} are allowed."
                )
                error.extensions = {"code": ErrorCode.QUERY_TOO_COMPLEX.value, "limit": limit}


def is_token_limit_error(error: GraphQLError) -> bool:
    """Whether graphql-core aborted parsing because the document had too many tokens."""
    return isinstance(error, GraphQLSyntaxError) and error.message.endswith(_ABORTED)
