"""Charge each request's query cost to its token's budget; refuse when the budget is spent.

Every GraphQL response carries the token's budget in `x-ratelimit-limit` (bucket capacity,
points), `x-ratelimit-remaining` (points left) and `x-ratelimit-reset` (seconds until the
bucket is full again). A request is charged its requested cost before it runs (at least 1
point); once it has run, the charge is settled to its actual cost (unused list slots are
refunded, a list longer than estimated is charged extra). A request refused before running
(syntax, validation, limits) costs 1 point, so floods of bad queries drain the budget too.
When the budget cannot pay for a query, nothing runs: HTTP 429, a RATE_LIMITED error and
`retry-after` (seconds until the budget can pay for it).

Listed before QueryCostLimit in the schema's extensions: hooks unwind in reverse order, so
the actual cost is measured before this extension settles the charge.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from graph.errors import RateLimitedError
from graph.extensions.request_state import aize_context, rate_limiter_of
from graph.rate_limiter import BudgetState

# What a request costs when it is refused before running (bad syntax, invalid, too big).
REFUSED_REQUEST_COST = 1


class RateLimit(SchemaExtension):
    _charged: int | None = None

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            # Paths that never reached execution nor a failed parse/validation (a missing
            # or ambiguous operation, an error raised by a hook) still pay the minimum.
            if self._charged is None:
                self._charge_refused()

    def on_parse(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            self._charge_refused()

    def on_validate(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            self._charge_refused()

    def on_execute(self) -> Iterator[None]:
        limiter = rate_limiter_of(self.execution_context)
        context = aize_context(self.execution_context)
        if limiter is None or context is None:
            yield
            return
        token_id = context.viewer.token_id
        requested = max(context.cost.requested or 0, REFUSED_REQUEST_COST)
        decision = limiter.try_consume(token_id, requested)
        if not decision.allowed:
            self._charged = 0
            self._publish(decision.state)
            if context.response is not None:
                context.response.status_code = 429
                context.response.headers["retry-after"] = str(decision.retry_after_seconds)
            error = RateLimitedError(
                f"Rate limit exceeded: this query costs {requested} points and the token has "
                f"{decision.state.remaining} left; retry in {decision.retry_after_seconds} s.",
                cost=requested,
                remaining=decision.state.remaining,
                retryAfterSeconds=decision.retry_after_seconds,
            )
            # A result set before execution makes strawberry skip running the operation.
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
            yield
            return
        self._charged = requested
        self._publish(decision.state)
        yield
        actual = context.cost.actual
        if actual is not None and actual != requested:
            settled = max(actual, REFUSED_REQUEST_COST)
            self._publish(limiter.settle(token_id, requested, settled))

    def _charge_refused(self) -> None:
        if self._charged is not None:
            return
        self._charged = REFUSED_REQUEST_COST
        limiter = rate_limiter_of(self.execution_context)
        context = aize_context(self.execution_context)
        if limiter is not None and context is not None:
            # Refused requests are answered with their own errors even when the budget is
            # empty; the charge only makes a flood of them drain it.
            decision = limiter.try_consume(context.viewer.token_id, REFUSED_REQUEST_COST)
            self._publish(decision.state)

    def _publish(self, state: BudgetState) -> None:
        context = aize_context(self.execution_context)
        if context is not None and context.response is not None:
            context.response.headers.update(state.headers())
