"""The fast executor: graph/library_executor.py's, with a short path for plain fields:
scalars, enums and objects, and plain lists of them.

Why: a dashboard answer and a log page are mostly fields read straight off a Python object
(`requests`, `customerCost`, a log's `node`, `edges`, `pageInfo`), and graphql-core runs each
through its whole field machinery (a resolve-info object, strawberry's resolver wrapper, the
middleware lookup, awaitable checks, value completion one wrapper type at a time). What that
costs today, with the switch on and off: docs/PERFORMANCE.md ("The fast executor").

What is plain (`plain_fields`): a field with no field extension or permission whose value is
either strawberry's default resolver applied to the source (an attribute) or a synchronous
method taking only `self` (no arguments, no info, no root or parent). Its value is read once,
here; the result is the same as graphql-core's because the same reader is called. Anything
unusual about the value (a null for a non-null field, a value the type refuses, the wrong
list shape, an `is_type_of` refusal, an awaitable) is completed by graphql-core's own
`complete_value` from the value already read, and an exception from the reader is reported
by graphql-core's `handle_field_error`: errors, paths, locations and null propagation are
graphql-core's, and no reader is ever called twice.

The purity rule (graph/types/__init__.py repeats it where types are declared): a plain
method must be a cheap, pure function of its object (no I/O, no writes, no dependence on
the request), because it runs outside graphql-core's resolver machinery: no extension's
`resolve` hook and no field middleware sees it.

It is off for a request when any schema extension has a `resolve` hook (strawberry then
installs field middleware: OpenTelemetry's tracing, Sentry's, Apollo tracing): every field
takes graphql-core's path and the first such request logs which extensions did it. The
service's own extensions (graph/extensions/) have no such hook. It is chosen at start-up by
graph/executor_choice.py: AIZE_FAST_EXECUTOR=false, a library outside the tested versions or
a missing internal select graph/library_executor.py instead.

Library internals it relies on (checked by graph/executor_choice.py): graphql-core 3.3's
Executor methods `execute_fields`, `execute_field`, `collect_subfields` (a 3-tuple),
`execute_collected_subfields`, `complete_value`, `complete_awaitable_value`,
`handle_field_error`, `build_resolve_info`, `settle_in_background`, `middleware_manager`,
`FieldDetailsList`, `GroupedFieldSet`, `gather_with_cancel`; strawberry's
`"strawberry-definition"` back-reference and StrawberryField/StrawberryResolver attributes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache, partial
from operator import attrgetter
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.types.field import StrawberryField

from graph.library_executor import LibraryExecutor
from resolvers.loop_turns import SliceLine

log = logging.getLogger(__name__)

# Where strawberry keeps a GraphQL field's own definition (GraphQLCoreConverter.DEFINITION_BACKREF).
DEFINITION_KEY = "strawberry-definition"
# An object's answer (a dict) or a list's.
ResultsT = TypeVar("ResultsT", dict[str, Any], list[Any])
# Fields completed between two turns of the event loop: 5-15 ms of completion work.
YIELD_EVERY_FIELDS = 2_000
# "Let graphql-core complete it": a value the short path does not complete.
_MISSING = object()
# The sets of resolve-hook extensions already reported (logged once per process each).
_REPORTED_HOOKS: set[tuple[str, ...]] = set()


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    """A scalar or enum field, or a list of them, answered by reading an attribute or
    calling a plain method."""

    read: Callable[[Any], Any]
    type: GraphQLScalarType | GraphQLEnumType
    # The field's whole type: where an error is handled, as graphql-core handles it.
    return_type: GraphQLOutputType
    nullable: bool
    # For a list field: whether its items may be null; None for a single value.
    item_nullable: bool | None

    def complete(self, value: Any) -> Any:
        """The completed `value` (read off the source); _MISSING when graphql-core must
        complete it (an error, or a value this does not recognise). May raise (a scalar
        refusing the value): the caller then lets graphql-core complete it too."""
        if value is None:
            return None if self.nullable else _MISSING
        if self.item_nullable is None:
            return _coerce(self.type, value)
        if not isinstance(value, list | tuple):
            return _MISSING
        completed: list[Any] = []
        for item in value:
            if item is None:
                if not self.item_nullable:
                    return _MISSING
                completed.append(None)
                continue
            coerced = _coerce(self.type, item)
            if coerced is _MISSING:
                return _MISSING
            completed.append(coerced)
        return completed


@dataclass(frozen=True, slots=True)
class PlainObject:
    """An object-typed field, or a list of objects, read off its source the same way."""

    read: Callable[[Any], Any]
    type: GraphQLObjectType
    # The field's whole type, and the list's item type (None for a single object): where an
    # error is handled, as graphql-core handles it.
    return_type: GraphQLOutputType
    item_type: GraphQLOutputType | None
    nullable: bool
    item_nullable: bool | None


def _coerce(type_: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    if hasattr(value, "__await__"):
        return _MISSING  # an awaitable is completed by graphql-core (awaited first)
    coerced = type_.coerce_output_value(value)
    return _MISSING if coerced is Undefined or coerced is None else coerced


@cache
def plain_fields(schema: GraphQLSchema) -> dict[tuple[str, str], PlainLeaf | PlainObject]:
    """Every plain field of the schema's object types, by (type, field) name.

    Union-typed fields (the only ones strawberry's exception handlers apply to) and
    interface-typed ones are never plain: graphql-core resolves their runtime type."""
    leaves: dict[tuple[str, str], PlainLeaf | PlainObject] = {}
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = (field.extensions or {}).get(DEFINITION_KEY)
            read = _reader(definition) if isinstance(definition, StrawberryField) else None
            if read is None:
                continue
            nullable, inner = _nullable(field.type)
            item_nullable, item_type = None, None
            if isinstance(inner, GraphQLList):
                item_type = inner.of_type
                item_nullable, inner = _nullable(item_type)
            if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
                leaves[(type_name, field_name)] = PlainLeaf(
                    read, inner, field.type, nullable, item_nullable
                )
            elif isinstance(inner, GraphQLObjectType):
                leaves[(type_name, field_name)] = PlainObject(
                    read, inner, field.type, item_type, nullable, item_nullable
                )
    return leaves


def _nullable(type_: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(type_, GraphQLNonNull):
        return False, type_.of_type
    return True, type_


def _reader(field: StrawberryField) -> Callable[[Any], Any] | None:
    """How to read the field off its source object, if it is that simple: strawberry's own
    reader for the field (the schema config's `default_resolver` for an attribute, the
    method for a resolver), without its wrapper."""
    if field.extensions:
        return None  # permissions and other field extensions run on graphql-core's path
    resolver = field.base_resolver
    if resolver is None:
        # What strawberry calls for a basic field: field.default_resolver(source, name),
        # the schema's StrawberryConfig.default_resolver (getattr unless configured).
        default_resolver = field.default_resolver
        name = field.python_name
        if default_resolver is getattr:
            return attrgetter(name)
        return lambda source: default_resolver(source, name)
    plain_method = (
        resolver.self_parameter is not None
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and not resolver.arguments
        and not resolver.is_async
    )
    method = resolver.wrapped_func
    if not plain_method or isinstance(method, classmethod | staticmethod) or not callable(method):
        return None
    return method


def _report_resolve_hooks(middlewares: Any) -> None:
    """Log, once per process and set of extensions, that they turn the short path off."""
    names = tuple(sorted({type(middleware).__name__ for middleware in middlewares}))
    if names in _REPORTED_HOOKS:
        return
    _REPORTED_HOOKS.add(names)
    log.warning(
        "fast executor: the short path for plain fields is off while extensions with a "
        "resolve hook run (%s); every field takes graphql-core's path (docs/PERFORMANCE.md)",
        ", ".join(names),
    )


class AizeExecutor(LibraryExecutor):
    """The library executor; plain fields are read, coerced and completed directly.

    Completing a result is CPU work on the event loop: a list of objects being completed
    gives the loop a turn once YIELD_EVERY_FIELDS fields have been completed since the last
    turn (its remaining items wait in the request's SliceLine), so other requests are served
    meanwhile and the request timeout can fire. An answer smaller than that never waits.
    """

    # Values completed since the event loop last had a turn (fields, and list entries).
    fields_since_yield: int = 0
    _slice_line: SliceLine | None = None

    @property
    def slice_line(self) -> SliceLine:
        """Where this request's completion slices wait for their turn (made when needed)."""
        if self._slice_line is None:
            self._slice_line = SliceLine()
        return self._slice_line

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's execute_fields, field by field in the selection's order, with plain
        fields completed here and every other field by graphql-core's execute_field."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            _report_resolve_hooks(manager.middlewares)
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        fields = plain_fields(self.schema)
        type_name = parent_type.name
        self.fields_since_yield += len(grouped_field_set)
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                plain = fields.get((type_name, field_details_list[0].node.name.value))
                if isinstance(plain, PlainLeaf):
                    completed = self._complete_leaf_field(
                        plain,
                        parent_type,
                        source_value,
                        field_details_list,
                        path,
                        response_name,
                        position_context,
                    )
                    if type(completed) is list:
                        self.fields_since_yield += len(completed)
                elif plain is not None:
                    completed = self._complete_object_field(
                        plain,
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, type_name),
                        position_context,
                    )
                else:
                    completed = _MISSING
                if completed is _MISSING:
                    completed = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, type_name),
                        position_context,
                    )
                    if completed is Undefined:
                        continue
                results[response_name] = completed
                if self.is_awaitable(completed):
                    pending.append(response_name)
        except Exception:
            self._settle(results, pending)
            raise
        return self._gathered(results, pending)

    def _complete_leaf_field(
        self,
        plain: PlainLeaf,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path | None,
        response_name: str,
        position_context: Any,
    ) -> Any:
        """A plain scalar or enum field's completed value (awaitable only when its reader
        returned one). Read once: an error in the reader is handled here as graphql-core
        handles it, and a value this does not complete goes to graphql-core's completion."""
        try:
            value = plain.read(source)
        except Exception as raw_error:
            field_path = Path(path, response_name, parent_type.name)
            self.handle_field_error(raw_error, plain.return_type, field_details_list, field_path)
            return None
        try:
            completed = plain.complete(value)
        except Exception:
            completed = _MISSING  # graphql-core's completion reports it, located
        if completed is not _MISSING:
            return completed
        return self._library_completion(
            parent_type,
            field_details_list,
            Path(path, response_name, parent_type.name),
            value,
            position_context,
        )

    def _library_completion(
        self,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_field from the resolver's result on, for a value already
        read: the same completion, errors and null propagation, without a second read."""
        nodes = [details.node for details in field_details_list]
        field_def = parent_type.fields[nodes[0].name.value]
        return_type = field_def.type
        info = self.build_resolve_info(field_def, nodes, parent_type, path)
        try:
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self._guarded(return_type, field_details_list, path, lambda: completed)

    def _complete_object_field(
        self,
        plain: PlainObject,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain object field's completed value (maybe awaitable), or _MISSING to let
        graphql-core execute it. Every check that could send it to graphql-core's
        completion runs before any of its sub-fields does; its reader runs once."""
        if any(details.node.directives for details in field_details_list):
            return _MISSING  # @include/@skip are already applied; @defer/@stream are not ours
        try:
            value = plain.read(source)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, field_details_list, path)
            return None
        if not self._completes_here(plain, value):
            # A method that had to load its answer (a log's key not preloaded), a null for a
            # non-null field, the wrong shape or type: graphql-core completes (or refuses) it.
            return self._library_completion(
                parent_type, field_details_list, path, value, position_context
            )
        if value is None:
            return None
        item_type = plain.item_type
        if item_type is None:
            return self._guarded(
                plain.return_type,
                field_details_list,
                path,
                partial(
                    self._object, plain.type, field_details_list, path, value, position_context
                ),
            )
        completed: list[Any] = []
        waiting: list[int] = []

        def items_from(start: int) -> AwaitableOrValue[list[Any]]:
            try:
                for index in range(start, len(value)):
                    item = value[index]
                    if item is None:
                        completed.append(None)
                        continue
                    item_path = path.add_key(index, None)
                    result = self._guarded(
                        item_type,
                        field_details_list,
                        item_path,
                        partial(
                            self._object,
                            plain.type,
                            field_details_list,
                            item_path,
                            item,
                            position_context,
                        ),
                    )
                    if self.is_awaitable(result):
                        waiting.append(index)
                    completed.append(result)
                    if self.fields_since_yield >= YIELD_EVERY_FIELDS and index + 1 < len(value):
                        return self._after_yield(items_from, index + 1, completed, waiting)
            except Exception:
                self._settle(completed, waiting)
                raise
            return self._gathered(completed, waiting)

        return self._guarded(plain.return_type, field_details_list, path, partial(items_from, 0))

    def _completes_here(self, plain: PlainObject, value: Any) -> bool:
        """Whether the short path completes `value`: not awaitable, null only where the
        type allows it, a list where one is expected, objects its type accepts."""
        if value is None:
            return plain.nullable
        if self.is_awaitable(value):
            return False
        if plain.item_type is None:
            return self._is_object_of(plain.type, value)
        if not isinstance(value, list | tuple):
            return False
        for item in value:
            if item is None:
                if not plain.item_nullable:
                    return False
            elif not self._is_object_of(plain.type, item):
                return False
        return True

    def _after_yield(
        self,
        resume: Callable[[int], AwaitableOrValue[list[Any]]],
        start: int,
        completed: list[Any],
        waiting: list[int],
    ) -> Awaitable[list[Any]]:
        """resume(start) once the event loop has had a turn: other requests run meanwhile,
        and the request's timeout can cancel this one."""

        # The items' awaitables run as tasks meanwhile: cancelled with this slice (by the
        # timeout), a coroutine never started would leave its inner ones unawaited.
        for index in waiting:
            completed[index] = asyncio.ensure_future(completed[index])

        async def resumed() -> list[Any]:
            line = self.slice_line
            try:
                await line.wait()
            except BaseException:
                for index in waiting:
                    completed[index].cancel()
                raise
            try:
                self.fields_since_yield = 0
                result = resume(start)
            finally:
                line.done()
            if isinstance(result, list):
                return result
            completed_rest: list[Any] = await result
            return completed_rest

        return resumed()

    def _settle(self, results: Any, pending: list[Any]) -> None:
        """After an error: let the awaitables at `pending` (keys or indexes of `results`)
        finish in the background, as graphql-core does."""
        if pending:
            self.settle_in_background([results[key] for key in pending])

    @staticmethod
    def _gathered(results: ResultsT, pending: list[Any]) -> AwaitableOrValue[ResultsT]:
        """`results` (a dict or a list) with the awaitables at `pending` replaced by their
        values, awaited together (gather_with_cancel, as graphql-core awaits an object's or
        a list's)."""
        if not pending:
            return results

        async def gathered() -> ResultsT:
            values = await gather_with_cancel(*(results[key] for key in pending))
            for key, value in zip(pending, values, strict=True):
                results[key] = value
            return results

        return gathered()

    def _guarded(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        complete: Callable[[], AwaitableOrValue[Any]],
    ) -> AwaitableOrValue[Any]:
        """complete(), an error in it handled as graphql-core handles a field's or a list
        item's error: null where the type allows it, raised to the parent otherwise."""
        try:
            result = complete()
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(result):
            return result

        async def awaited() -> Any:
            try:
                return await result
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return awaited()

    def _object(
        self,
        type_: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's collect_and_execute_subfields for an already checked value."""
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(type_, field_details_list)
        return self.execute_collected_subfields(
            type_, value, path, grouped_field_set, new_defer_usages, position_context
        )

    @staticmethod
    def _is_object_of(type_: GraphQLObjectType, value: Any) -> bool:
        """Whether `value` passes the type's is_type_of (strawberry's ignores the resolve
        info); False for anything unusual, which graphql-core then decides."""
        if type_.is_type_of is None:
            return True
        try:
            answer = type_.is_type_of(value, None)  # type: ignore[arg-type]
        except Exception:
            return False
        return answer is True
