"""Refuse strings the database cannot store, in the document or in variables (BAD_USER_INPUT).

NUL characters and unpaired surrogates (graph/inputs/text.py) would fail in PostgreSQL or its
driver: a note, a key's status reason, a filter value, an email, a model list, an ingested
record's fields. Every string argument reaches the resolvers through the document's string
literals or through the variables, so both are checked once here, before anything runs, on
both backends alike. (graphql-core's lexer already refuses surrogates in literals; the rule
checks them anyway, so that the refusal does not depend on it.) The bulk ingest endpoint
checks its JSON lines itself; exports check their parameters (web/export_params.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import StringValueNode, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension

from graph.errors import BadUserInputError
from graph.inputs.text import (
    could_spell_unstorable,
    first_unstorable,
    shown_path,
    unstorable_reason,
)


class NulCharacters(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        rule = nul_rule(execution.variables, execution.query)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


def nul_rule(variables: Mapping[str, Any] | None, query: str | None = None) -> type[ValidationRule]:
    """A validation rule reporting each string literal, and each variable, holding a NUL
    or an unpaired surrogate (the variable's message names where inside it).

    Given the query text, literals are only visited when the text could spell one (a raw
    one, or a `\\u` escape): the usual query has neither, and its rule then does all its
    work when constructed, with no document visit (graph.extensions.document_cache)."""

    class NoNulVariables(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for name, value in (variables or {}).items():
                found = first_unstorable(value)
                if found is not None:
                    path, reason = found
                    where = f" at {shown_path(path)}" if path else ""
                    self.report_error(BadUserInputError(f"Variable '${name}'{where}: {reason}."))

    class NoNulRule(NoNulVariables):
        def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
            reason = unstorable_reason(node.value)
            if reason is not None:
                self.report_error(BadUserInputError(f"{reason[0].upper()}{reason[1:]}.", node))

    if query is not None and not could_spell_unstorable(query):
        return NoNulVariables
    return NoNulRule
