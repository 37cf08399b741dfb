"""Charge each request's query cost to its token's and organization's budgets; refuse when
either is spent.

Every GraphQL response carries the tighter of the two budgets (the one with fewer points
left) in `x-ratelimit-limit` (its size, points), `x-ratelimit-remaining` (points left) and
`x-ratelimit-reset` (seconds until it is full again). A request is charged its requested
cost (at least 1 point) before it runs, and that is what it pays: the budgets' library
cannot give points back. Should the actual cost exceed the requested one (a list longer than
estimated), the extra is taken from each budget that holds it. A request
refused before running (syntax, validation, limits) costs 1 point, so floods of bad queries
drain the budgets too. When a budget cannot pay for a query, nothing runs: HTTP 429, a
RATE_LIMITED error and `retry-after` (seconds until both budgets can pay for it).

Listed before QueryCostLimit in the schema's extensions, so the cost is requested (and the
document refused or not) before this extension charges it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.errors import ErrorCode, RateLimitedError
from graph.extensions.request_state import aize_context, rate_limiter_of, settings_of
from graph.rate_window import BudgetState

# What a request costs when it is refused before running (bad syntax, invalid); one refused
# as too complex costs AIZE_MAX_QUERY_COST (RateLimit._refusal_cost).
REFUSED_REQUEST_COST = 1


class RateLimit(SchemaExtension):
    _charged: int | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            # Paths that never reached execution nor a failed parse/validation (a missing
            # or ambiguous operation, an error raised by a hook) still pay the minimum.
            if self._charged is None:
                await self._charge_refused()

    async def on_parse(self) -> AsyncIterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            await self._charge_refused()

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            await self._charge_refused()

    async def on_execute(self) -> AsyncIterator[None]:
        limiter = rate_limiter_of(self.execution_context)
        context = aize_context(self.execution_context)
        if limiter is None or context is None:
            yield
            return
        requested = max(context.cost.requested or 0, REFUSED_REQUEST_COST)
        decision = await limiter.charge(context.viewer, requested)
        self._publish(decision.state)
        if not decision.allowed:
            self._charged = 0
            if context.response is not None:
                context.response.status_code = 429
                context.response.headers["retry-after"] = str(decision.retry_after_seconds)
            error = RateLimitedError(
                f"Rate limit exceeded: this query costs {requested} points and "
                f"{decision.payer} has {decision.state.remaining} left; "
                f"retry in {decision.retry_after_seconds} s.",
                cost=requested,
                remaining=decision.state.remaining,
                retryAfterSeconds=decision.retry_after_seconds,
            )
            if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
                # Strawberry subscribes whatever the result; raised here, it answers the
                # error instead (graph/subscription.py's streams never start).
                raise error
            # A result set before execution makes strawberry skip running the operation.
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
            yield
            return
        self._charged = requested
        yield
        actual = context.cost.actual
        if actual is not None and actual > requested:
            # A list longer than its estimate: the extra is taken where the budgets hold it.
            self._publish(await limiter.charge_what_fits(context.viewer, actual - requested))

    async def _charge_refused(self) -> None:
        if self._charged is not None:
            return
        self._charged = self._refusal_cost()
        limiter = rate_limiter_of(self.execution_context)
        context = aize_context(self.execution_context)
        if limiter is not None and context is not None:
            # Refused requests are answered with their own errors even when a budget is
            # empty; the charge only makes a flood of them drain it.
            self._publish(await limiter.charge_what_fits(context.viewer, self._charged))

    def _refusal_cost(self) -> int:
        """1 point, or AIZE_MAX_QUERY_COST for a request refused as too complex: measuring
        it took real work (parsing, counting its lists), and a client that keeps sending it
        is refused once its budgets are spent, before any of that work is done again."""
        errors = self.execution_context.pre_execution_errors or ()
        if any(
            (error.extensions or {}).get("code") == ErrorCode.QUERY_TOO_COMPLEX for error in errors
        ):
            return settings_of(self.execution_context).max_query_cost
        return REFUSED_REQUEST_COST

    def _publish(self, state: BudgetState) -> None:
        context = aize_context(self.execution_context)
        if context is not None and context.response is not None:
            context.response.headers.update(state.headers())
