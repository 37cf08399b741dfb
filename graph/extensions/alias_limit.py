"""Refuse operations using more than AIZE_MAX_ALIASES aliases (QUERY_TOO_COMPLEX).

Aliases are what let one request ask for the same expensive field many times, so they are
counted as they would execute: a fragment's aliases count once per spread, and fragments
spread inside spread fragments multiply. A fragment with 5 aliases spread 4 times is 20.
Each fragment is measured once (memoized), so counting stays linear in the document even
when the expanded query would be exponentially large.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from graph.errors import QueryTooComplexError
from graph.extensions.request_state import query_limits
from graph.limits import FragmentMeasure, fragments_of, operations_of


class AliasLimit(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        rule = alias_rule(query_limits(self.execution_context).max_aliases)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    """A validation rule reporting every operation with more than `max_aliases` aliases."""

    class MaxAliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            count = _AliasCount(fragments_of(context.document))
            for operation in operations_of(context.document):
                aliases = count.selection_set(operation.selection_set)
                if aliases > max_aliases:
                    name = f"'{operation.name.value}'" if operation.name else "The query"
                    self.report_error(
                        QueryTooComplexError(
                            f"{name} uses {aliases} aliases (fragments count once per "
                            f"spread); at most {max_aliases} are allowed.",
                            operation,
                            aliases=aliases,
                            limit=max_aliases,
                        )
                    )

    return MaxAliasesRule


class _AliasCount(FragmentMeasure):
    """Aliased fields, fragments counted once per spread."""

    def selection_set(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += (1 if selection.alias else 0) + self.selection_set(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total
