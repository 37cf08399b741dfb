"""A schema extension that counts GraphQL errors by code and names the request's operation.

It has no `resolve` hook, so graph/execution.py's short path for plain fields stays on. It
runs first among the schema's extensions (graph/extensions/__init__.py), so it unwinds last
and sees the codes ErrorCodes gave every error. The operation name goes into the request's
state for the HTTP metrics (web/http_metrics.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.extensions.request_state import aize_context
from observability.metrics import GRAPHQL_ERRORS

# The request.state attribute the HTTP metrics read.
OPERATION_STATE = "graphql_operation"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        execution_context = self.execution_context
        context = aize_context(execution_context)
        if context is not None:
            setattr(context.request.state, OPERATION_STATE, execution_context.operation_name)
        result = execution_context.result
        errors = result.errors if result is not None else execution_context.pre_execution_errors
        for error in errors or ():
            GRAPHQL_ERRORS.labels(code=str((error.extensions or {}).get("code", ""))).inc()
