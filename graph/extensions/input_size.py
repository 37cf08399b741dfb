"""Refuse oversized documents and strings before they are parsed or run (BAD_USER_INPUT).

The document's text is bounded by AIZE_MAX_QUERY_BYTES before the lexer reads it (the
token limit counts tokens, not their length: one comment or literal could be megabytes).
String literals and the strings inside variables are bounded by AIZE_MAX_STRING_BYTES,
large-text input fields excepted, and the variables' values are counted (graph/input_size.py).
Each refusal names the limit in `extensions.limit` and where the string is.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.errors import BadUserInputError
from graph.extensions.request_state import settings_of
from graph.input_size import oversized_literal, refuse_variables, utf8_size_over


class InputSizeLimit(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        settings = settings_of(execution)
        query = execution.query
        limit = settings.max_query_bytes
        if query is not None and utf8_size_over(query, limit):
            raise BadUserInputError(
                f"The query document is larger than {limit} bytes (AIZE_MAX_QUERY_BYTES); "
                "send long values as variables.",
                limit=limit,
            )
        yield
        limit = settings.max_string_bytes
        document = execution.graphql_document
        # A literal cannot be longer than the whole text: the usual query is not walked.
        if document is None or query is None or not utf8_size_over(query, limit):
            return
        found = oversized_literal(document, limit)
        if found is not None:
            path, node = found
            raise BadUserInputError(
                f"The string at {path} is longer than {limit} bytes (AIZE_MAX_STRING_BYTES).",
                node,
                limit=limit,
            )

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document, variables = execution.graphql_document, execution.variables
        if document is not None and variables:
            limit = settings_of(execution).max_string_bytes
            refusal = refuse_variables(execution.schema._schema, document, variables, limit)
            if refusal is not None:
                raise BadUserInputError(refusal.message, limit=refusal.limit)
        yield
