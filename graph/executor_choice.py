"""Which executor the schema runs with: the fast one (graph/execution.py) or graphql-core's
own (graph/library_executor.py).

The fast executor relies on internals of graphql-core and strawberry that are not their
API, so it runs only with the versions it is tested with (pinned in pyproject.toml and
requirements/lock.txt) and only when the internals it uses are there and answer a small
query exactly as the library does. Otherwise the service still starts, on the library's
executor, after one warning; AIZE_FAST_EXECUTOR=false chooses the library's executor on
purpose.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from packaging.version import InvalidVersion, Version

from graph.library_executor import LibraryExecutor

log = logging.getLogger(__name__)

# The versions the fast executor is tested with: [lowest, first untested). Keep in step with
# pyproject.toml's pins and requirements/lock.txt (README, "Dependencies and the lock file").
TESTED_VERSIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "graphql-core": ((3, 3, 2), (3, 4)),
    "strawberry-graphql": ((0, 341, 3), (0, 342)),
}
# (module or class, attribute) pairs the fast path reads; a missing one means it cannot run
# (instance attributes such as StrawberryResolver.wrapped_func are exercised by the self-test).
REQUIRED_INTERNALS: tuple[tuple[str, str], ...] = (
    ("graphql.execution.collect_fields", "FieldDetailsList"),
    ("graphql.execution.collect_fields", "GroupedFieldSet"),
    ("graphql.pyutils.gather_with_cancel", "gather_with_cancel"),
    ("strawberry.schema.schema", "StrawberryGraphQLCoreExecutionContext"),
    ("strawberry.types.field", "StrawberryField"),
    *(
        ("strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext", method)
        for method in (
            "execute_fields",
            "execute_field",
            "collect_subfields",
            "execute_collected_subfields",
            "complete_value",
            "complete_awaitable_value",
            "handle_field_error",
            "build_resolve_info",
            "settle_in_background",
            "is_awaitable",
        )
    ),
    ("strawberry.types.field.StrawberryField", "default_resolver"),
    ("strawberry.types.fields.resolver.StrawberryResolver", "self_parameter"),
    ("strawberry.types.fields.resolver.StrawberryResolver", "info_parameter"),
    ("strawberry.types.fields.resolver.StrawberryResolver", "root_parameter"),
    ("strawberry.types.fields.resolver.StrawberryResolver", "parent_parameter"),
    ("strawberry.types.fields.resolver.StrawberryResolver", "is_async"),
    ("strawberry.schema.schema_converter.GraphQLCoreConverter", "DEFINITION_BACKREF"),
)


def _version_problem(installed: dict[str, str]) -> str | None:
    for package, (lowest, untested) in TESTED_VERSIONS.items():
        found = installed.get(package)
        if found is None:
            return f"{package} is not installed"
        try:
            Version(found)
        except InvalidVersion:
            return f"{package} has an unreadable version {found!r}"
        release = Version(found).release
        if not lowest <= release < untested:
            tested = f">={'.'.join(map(str, lowest))},<{'.'.join(map(str, untested))}"
            return f"{package} {found} is outside the tested range {tested}"
    return None


def _object_at(dotted: str) -> object:
    """The module, or the class inside a module, that `dotted` names."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _internals_problem() -> str | None:
    for where, name in REQUIRED_INTERNALS:
        try:
            holder = _object_at(where)
        except (ImportError, AttributeError) as error:
            return f"{where} cannot be imported ({error})"
        if not hasattr(holder, name):
            return f"{where}.{name} is missing"
    from strawberry.schema.schema_converter import GraphQLCoreConverter

    if GraphQLCoreConverter.DEFINITION_BACKREF != "strawberry-definition":
        return "strawberry's field back-reference is no longer 'strawberry-definition'"
    return None


def _installed_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in TESTED_VERSIONS:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def fast_path_problem(installed: dict[str, str] | None = None) -> str | None:
    """Why the fast executor cannot run here (None: it can): a library version outside the
    tested range, a missing internal, or a small query answered differently than by the
    library's executor."""
    problem = _version_problem(_installed_versions() if installed is None else installed)
    if problem is None:
        problem = _internals_problem()
    if problem is None:
        from graph.executor_selftest import selftest_problem

        problem = selftest_problem()
    return problem


@cache
def _checked_fast_executor() -> type[LibraryExecutor] | None:
    """The fast executor class, or None (logged once) when it cannot run here."""
    try:
        problem = fast_path_problem()
    except Exception as error:  # an internal that changed shape: fall back, never fail
        problem = f"checking it failed ({type(error).__name__}: {error})"
    if problem is not None:
        log.warning(
            "fast executor off, using graphql-core's own executor: %s "
            "(set AIZE_FAST_EXECUTOR=false to choose it on purpose)",
            problem,
        )
        return None
    from graph.execution import AizeExecutor

    return AizeExecutor


def executor_class(*, fast: bool) -> type[LibraryExecutor]:
    """The execution context class for the schema: the fast executor when asked for and it
    can run here, graphql-core's own executor otherwise."""
    if not fast:
        return LibraryExecutor
    return _checked_fast_executor() or LibraryExecutor
