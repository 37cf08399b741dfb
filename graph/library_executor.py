"""graphql-core's executor as strawberry runs it, with two settings of this service: errors
about the caller's variables never suggest schema names, and the request's context learns
when execution begins, and a live push's result is executed once for the subscribers that
would all compute the same one (SharedResults).

This is what runs with AIZE_FAST_EXECUTOR=false, or when graph/executor_choice.py finds the
fast path (graph/execution.py) unsupported by the installed libraries.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable
from functools import partial
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

    def execute_operation(self, serially: bool | None = None) -> Any:
        """graphql-core's, except for a subscription event whose root carries
        `shared_results` (a live push): executed once per operation, variables and viewer."""
        shared = getattr(self.root_value, "shared_results", None)
        if isinstance(shared, SharedResults):
            run = super().execute_operation
            return shared.execute(self, lambda: run(serially))
        return super().execute_operation(serially)


class SharedResults:
    """The executed results of one pushed subscription event, shared by its subscribers.

    A hub's message is shaped once into one object (graph/subscription.py, via
    live/hub.py's `Hub.shared`), and that object carries one of these: every subscriber
    whose operation (the same cached document), variables and viewer (organization, member,
    role, scopes) are the same gets the same execution result instead of executing the
    selection again. Results with errors are not shared (each subscriber's own execution
    reports its own)."""

    __slots__ = ("_results",)

    def __init__(self) -> None:
        self._results: dict[Hashable, tuple[object, Any]] = {}

    def execute(self, executor: LibraryExecutor, run: Callable[[], Any]) -> Any:
        """The result for `executor`'s operation, variables and viewer: shared if one was
        computed (or is being computed) for the same, else `run()`, remembered."""
        context = executor.context_value
        if not isinstance(context, Context):
            return run()
        viewer = context.viewer
        operation = executor.operation
        key = (
            id(operation),
            repr(sorted(executor.variable_values.coerced.items())),
            viewer.organization_id,
            viewer.member_id,
            viewer.role,
            viewer.scopes,
        )
        seen = self._results.get(key)
        if seen is not None and seen[0] is operation:
            shared = seen[1]
            return asyncio.shield(shared) if isinstance(shared, asyncio.Future) else shared
        result = run()
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._results[key] = (operation, task)
            task.add_done_callback(partial(self._settled, key))
            return asyncio.shield(task)
        if not getattr(result, "errors", None):
            self._results[key] = (operation, result)
        return result

    def _settled(self, key: Hashable, task: asyncio.Future[Any]) -> None:
        if task.cancelled() or task.exception() is not None or task.result().errors:
            self._results.pop(key, None)
        else:
            operation = self._results[key][0]
            self._results[key] = (operation, task.result())
