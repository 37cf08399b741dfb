"""Refuse operations nested deeper than AIZE_MAX_QUERY_DEPTH (QUERY_TOO_COMPLEX).

Depth is the number of fields on the longest path from the operation's root to a leaf:
`{ viewer { role } }` is 2 deep. Fragments count where they are spread. Introspection
fields (`__schema`, `__type`, `__typename`) are not counted: the standard introspection
query nests `ofType` deeper than any data query, and its size is bounded by the schema.
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


class QueryDepthLimit(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        rule = depth_rule(query_limits(self.execution_context).max_depth)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


def depth_rule(max_depth: int) -> type[ValidationRule]:
    """A validation rule reporting every operation deeper than `max_depth` fields."""

    class MaxDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure = _DepthMeasure(fragments_of(context.document))
            for operation in operations_of(context.document):
                depth = measure.selection_set(operation.selection_set)
                if depth > max_depth:
                    name = f"'{operation.name.value}'" if operation.name else "The query"
                    self.report_error(
                        QueryTooComplexError(
                            f"{name} is nested {depth} fields deep; at most {max_depth} "
                            "are allowed.",
                            operation,
                            depth=depth,
                            limit=max_depth,
                        )
                    )

    return MaxDepthRule


class _DepthMeasure(FragmentMeasure):
    """The deepest chain of fields (introspection fields not counted)."""

    def selection_set(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                depth = 1 + self.selection_set(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                depth = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                depth = self.fragment(selection.name.value)
            else:
                continue
            deepest = max(deepest, depth)
        return deepest
