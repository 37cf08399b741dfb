"""Refuse strings containing NUL characters, in the document or in variables (BAD_USER_INPUT).

PostgreSQL text cannot hold a NUL (U+0000): a note, a key's status reason or a filter value
carrying one would fail in the database (and be stored as is on SQLite). Every string
argument reaches the resolvers through the document's string literals (escaped as `\\u0000`)
or through the variables, so both are checked once here, before anything runs, on both
backends alike. The bulk ingest endpoint checks its JSON lines itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import StringValueNode, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension

from graph.errors import BadUserInputError

NUL = "\x00"
MESSAGE = "strings may not contain NUL characters (\\u0000)"


class NulCharacters(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        rule = nul_rule(execution.variables, execution.query)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


def nul_rule(variables: Mapping[str, Any] | None, query: str | None = None) -> type[ValidationRule]:
    """A validation rule reporting each string literal, and each variable, holding a NUL.

    Given the query text, literals are only visited when the text could spell a NUL (a raw
    one, or a `\\u` escape): the usual query has neither, and its rule then does all its
    work when constructed, with no document visit (graph.extensions.document_cache)."""

    class NoNulVariables(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for name, value in (variables or {}).items():
                if contains_nul(value):
                    self.report_error(BadUserInputError(f"Variable '${name}': {MESSAGE}."))

    class NoNulRule(NoNulVariables):
        def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
            if NUL in node.value:
                self.report_error(BadUserInputError(f"{MESSAGE[0].upper()}{MESSAGE[1:]}.", node))

    if query is not None and NUL not in query and "\\u" not in query:
        return NoNulVariables
    return NoNulRule


def contains_nul(value: object) -> bool:
    """Whether a variable's value (JSON: strings, lists, objects) holds a NUL anywhere."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False
