"""graphql-core's executor as strawberry runs it, with two settings of this service: errors
about the caller's variables never suggest schema names, and the request's context learns
when execution begins.

This is what runs with AIZE_FAST_EXECUTOR=false, or when graph/executor_choice.py finds the
fast path (graph/execution.py) unsupported by the installed libraries.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.context import Context


class LibraryExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, built with `hide_suggestions`: an unknown input field
    or a wrong enum value in the variables is refused without "Did you mean ...?"."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's Executor.build, suggestions always hidden (strawberry passes no
        such option, so it is forced here, where every execution is built). A built
        executor (not a list of variable errors) tells its context the operation runs."""
        kwargs["hide_suggestions"] = True
        built = super().build(*args, **kwargs)
        if isinstance(built, LibraryExecutor) and isinstance(built.context_value, Context):
            # Variables coerced, execution begins: no longer a request error (web/app.py).
            built.context_value.operation_executed = True
        return built
