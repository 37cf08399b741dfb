"""A small schema the fast executor must answer exactly as graphql-core's own executor does
before the service uses it (graph/executor_choice.py): attributes, plain methods, nested
objects and lists, an error, a null where none is allowed. A library change that breaks an
internal the fast path uses shows here, at start-up, instead of in a customer's answer."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class _Line:
    label: str
    amount: int | None

    @strawberry.field
    def shout(self) -> str:
        return self.label.upper()

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError("line failed")


@strawberry.type
class _Sheet:
    title: str
    lines: list[_Line]
    tags: list[str]
    missing: _Line | None = None

    @strawberry.field
    def first(self) -> _Line:
        return self.lines[0]

    @strawberry.field
    def broken(self) -> _Line:
        return None  # type: ignore[return-value]


@strawberry.type
class _Query:
    @strawberry.field
    def sheet(self) -> _Sheet | None:
        return _Sheet(
            title="t",
            lines=[_Line(label="a", amount=1), _Line(label="b", amount=None)],
            tags=["x", "y"],
        )


SELFTEST_QUERY = (
    "{ sheet { title tags missing { label } first { label shout } "
    "lines { label amount shout fails } } again: sheet { title broken { label } } }"
)


class _QuietSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """The self-test's errors are expected: compared, never logged."""


def _answer(execution_context_class: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    schema = _QuietSchema(query=_Query, execution_context_class=execution_context_class)
    result = schema.execute_sync(SELFTEST_QUERY)
    errors = [(e.message, e.path, e.locations) for e in result.errors or ()]
    return result.data, errors


def selftest_problem() -> str | None:
    """None when the fast executor answers the small query exactly as the library's does;
    otherwise what differs."""
    from graph.execution import AizeExecutor
    from graph.library_executor import LibraryExecutor

    fast, library = _answer(AizeExecutor), _answer(LibraryExecutor)
    if fast != library:
        return f"a self-test query is answered differently: {fast!r} != {library!r}"
    return None
