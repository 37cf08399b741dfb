"""Refuse a document of several operations sent without `operationName` (BAD_USER_INPUT, 400).

The GraphQL spec (GetOperation) makes that a request error: nothing says which operation the
caller meant. strawberry does not follow it: without a name its execution context picks the
document's first operation and hands that name to graphql-core, so the first one ran.
This extension refuses such a request during validation, before anything runs, and answers
HTTP 400, as GraphQL over HTTP asks for a request that cannot be executed.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from graph.errors import BadUserInputError
from graph.extensions.request_state import aize_context
from graph.limits import operations_of


class OperationNameRequired(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and provided_operation_name(execution) is None:
            names = operation_names(document)
            if len(names) > 1:
                rule = ambiguous_operation_rule(names)
                execution.validation_rules = (*execution.validation_rules, rule)
                context = aize_context(execution)
                if context is not None and context.response is not None:
                    context.response.status_code = 400
        yield


def provided_operation_name(execution: ExecutionContext) -> str | None:
    """The `operationName` the request carried (None when it had none).

    strawberry keeps it only privately (`_provided_operation_name`): its public
    `operation_name` falls back to the first operation's name, which is the bug here."""
    name = getattr(execution, "_provided_operation_name", None)
    return name if isinstance(name, str) else None


def operation_names(document: DocumentNode) -> list[str]:
    """The document's operations, by name ("anonymous" for an unnamed one)."""
    return [o.name.value if o.name else "anonymous" for o in operations_of(document)]


def ambiguous_operation_rule(names: list[str]) -> type[ValidationRule]:
    """A validation rule reporting that `operationName` must choose among `names`."""
    message = (
        f"The document holds {len(names)} operations ({', '.join(names)}): "
        "say which one to run with operationName."
    )

    class AmbiguousOperationRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.report_error(BadUserInputError(message))

    return AmbiguousOperationRule
