"""Measure each operation's cost before it runs; refuse it above AIZE_MAX_QUERY_COST, or
when its response could hold more than AIZE_MAX_RESPONSE_NODES fields and list items.

The cost model is in `graph.limits`. The requested cost is computed during validation (so a
refusal arrives with the other validation errors, before any resolver runs), together with
the `first`/`last` check every connection gets (1 to 100, BAD_USER_INPUT). Relative periods
are resolved against the request's own "now" and the viewer's organization, as the
resolvers will. After execution the actual cost is measured on the response. Both go to
`extensions.cost` with the per-query `limit`; the token's remaining budget is in the
x-ratelimit-* headers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension

from graph.cost_sizes import PredictionClock
from graph.errors import BadUserInputError, QueryTooComplexError
from graph.extensions.request_state import aize_context, query_limits
from graph.limits import (
    CostReport,
    QueryLimits,
    actual_cost,
    full_introspection_cost,
    only_introspection,
    requested_cost,
    select_operation,
)


class QueryCostLimit(SchemaExtension):
    _report: CostReport | None = None

    @property
    def report(self) -> CostReport:
        """This request's cost report (on the Context, where the rate limiter reads it)."""
        if self._report is None:
            context = aize_context(self.execution_context)
            self._report = context.cost if context is not None else CostReport()
        return self._report

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        limits = query_limits(execution)
        # An introspection never meets a limit below one standard introspection of this
        # schema, however the schema grows (graph/limits.py full_introspection_cost).
        document = execution.graphql_document
        operation = select_operation(document, execution.operation_name) if document else None
        if operation is not None and only_introspection(operation):
            introspection = full_introspection_cost(execution.schema._schema)
            if limits.max_cost < introspection:
                limits = dataclasses.replace(limits, max_cost=introspection)
        self.report.limit = limits.max_cost
        context = aize_context(execution)
        clock = (
            PredictionClock(context.now, context.viewer.organization)
            if context is not None
            else PredictionClock(datetime.now(UTC))
        )
        rule = cost_rule(self.report, limits, clock, execution.operation_name, execution.variables)
        execution.validation_rules = (*execution.validation_rules, rule)
        yield

    def on_execute(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        result = execution.result
        document = execution.graphql_document
        if not isinstance(result, GraphQLExecutionResult) or document is None:
            return
        operation = select_operation(document, execution.operation_name)
        if operation is not None and self.report.requested is not None:
            self.report.actual = actual_cost(
                execution.schema._schema, document, operation, result.data, execution.variables
            ).points

    def get_results(self) -> dict[str, Any]:
        measured = self.report.as_extension()
        return {"cost": measured} if "requested" in measured else {}


def cost_rule(
    report: CostReport,
    limits: QueryLimits,
    clock: PredictionClock,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> type[ValidationRule]:
    """A validation rule that records the requested cost and refuses what is too costly
    or would answer with too many nodes."""
    limit, max_nodes = limits.max_cost, limits.max_nodes
    # Counting an introspection answer stops once it is known to be too large: every
    # resolver call the count makes is a field of the answer (1 point, 1 node at least).
    ceiling = min(limit, max_nodes)

    class QueryCostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            operation = select_operation(context.document, operation_name)
            if operation is None:
                return
            measured = requested_cost(
                context.schema, context.document, operation, variables, clock, ceiling
            )
            report.requested = measured.points
            for problem in measured.page_size_problems:
                self.report_error(
                    BadUserInputError(
                        problem.message, field=problem.field, argument=problem.argument
                    )
                )
            if measured.points > limit:
                self.report_error(
                    QueryTooComplexError(
                        f"The query would cost {measured.points} points; at most {limit} are "
                        "allowed per query. Ask for fewer items (first/limit), a shorter "
                        "period or coarser granularity, or fewer fields.",
                        operation,
                        cost=measured.points,
                        limit=limit,
                    )
                )
            elif measured.nodes > max_nodes:
                self.report_error(
                    QueryTooComplexError(
                        f"The response could hold {measured.nodes} fields and list items; at "
                        f"most {max_nodes} are allowed per response. Ask for fewer items "
                        "(first/limit), a shorter period or coarser granularity, or fewer "
                        "fields.",
                        operation,
                        responseNodes=measured.nodes,
                        limit=max_nodes,
                    )
                )

    return QueryCostRule
