"""The GraphQL executor: strawberry's, with a short path for plain fields: scalars, enums and
objects, and plain lists of them.

A dashboard answer holds about 1,700 fields and a log page about 600; almost all are scalars
read straight off a Python object (`requests`, `customerCost`, `statusCode`...). graphql-core
runs each through the whole field machinery: a resolve-info object, strawberry's resolver
wrapper, the middleware lookup, awaitable checks, and value completion one wrapper type at a
time. That costs several microseconds per field and dominated the time of such requests
(docs/PERFORMANCE.md). For a scalar or enum field that is either basic in strawberry's sense
(no resolver, no field extension or permission: it returns `getattr(source, python_name)`)
or resolved by a plain synchronous method taking only `self` (no arguments, no info, no
extension or permission, e.g. `CostSummary.customerCost`), the result is the same as
graphql-core's: the attribute or the method's value, coerced by the type. Anything unusual
(a null for a non-null field, an exception, a value the type refuses, a field middleware)
takes graphql-core's own path, so errors, paths and locations stay exactly as they were.

Object fields read the same way (`edges`, `node`, `totals`, `pageInfo`) skip the resolve info,
the resolver wrapper and the value completion too: their selection is collected as
graphql-core collects it and executed here. Every check that could send such a field back to
graphql-core (null, list shape, `is_type_of`) runs before any of its sub-fields does; once
they run, an error is handled where graphql-core handles it (`handle_field_error` for the
field or list item), so nulls propagate to the same place.
"""

from __future__ import annotations

import asyncio
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
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from graph.context import Context
from resolvers.loop_turns import SliceLine

# Where strawberry keeps a GraphQL field's own definition (GraphQLCoreConverter.DEFINITION_BACKREF).
_DEFINITION = "strawberry-definition"
# An object's answer (a dict) or a list's.
ResultsT = TypeVar("ResultsT", dict[str, Any], list[Any])
# Fields completed between two turns of the event loop: 5-15 ms of completion work.
YIELD_EVERY_FIELDS = 2_000
# "Let graphql-core decide": a value the short path does not complete (an error to report).
_MISSING = object()


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    """A scalar or enum field, or a list of them, answered by reading an attribute or
    calling a plain method."""

    read: Callable[[Any], Any]
    type: GraphQLScalarType | GraphQLEnumType
    nullable: bool
    # For a list field: whether its items may be null; None for a single value.
    item_nullable: bool | None

    def complete(self, source: Any) -> Any:
        """The field's completed value; _MISSING when graphql-core must decide (an error)."""
        value = self.read(source)
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
    coerced = type_.coerce_output_value(value)
    return _MISSING if coerced is Undefined or coerced is None else coerced


@cache
def plain_fields(schema: GraphQLSchema) -> dict[tuple[str, str], PlainLeaf | PlainObject]:
    """Every plain field of the schema's object types, by (type, field) name."""
    leaves: dict[tuple[str, str], PlainLeaf | PlainObject] = {}
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = (field.extensions or {}).get(_DEFINITION)
            read = _reader(definition) if isinstance(definition, StrawberryField) else None
            if read is None:
                continue
            nullable, inner = _nullable(field.type)
            item_nullable, item_type = None, None
            if isinstance(inner, GraphQLList):
                item_type = inner.of_type
                item_nullable, inner = _nullable(item_type)
            if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
                leaves[(type_name, field_name)] = PlainLeaf(read, inner, nullable, item_nullable)
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
    """How to read the field off its source object, if it is that simple."""
    if field.extensions:
        return None  # permissions and other field extensions run on graphql-core's path
    resolver = field.base_resolver
    if resolver is None:
        return attrgetter(field.python_name)
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


class AizeExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor; plain fields are read, coerced and completed directly.

    Built with `hide_suggestions`: errors about the caller's variables (an unknown input
    field, a wrong enum value) never suggest schema names ("Did you mean ...?").

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

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's Executor.build, suggestions always hidden (strawberry passes no
        such option, so it is forced here, where every execution is built). A built
        executor (not a list of variable errors) tells its context the operation runs."""
        kwargs["hide_suggestions"] = True
        built = super().build(*args, **kwargs)
        if isinstance(built, AizeExecutor) and isinstance(built.context_value, Context):
            # Variables coerced, execution begins: no longer a request error (graph/app.py).
            built.context_value.operation_executed = True
        return built

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
                completed, field_path = _MISSING, None
                if isinstance(plain, PlainLeaf):
                    try:
                        completed = plain.complete(source_value)
                    except Exception:
                        # graphql-core's path runs it again and reports the error, located.
                        completed = _MISSING
                    if completed is not _MISSING:
                        if type(completed) is list:
                            self.fields_since_yield += len(completed)
                        results[response_name] = completed  # a value, never awaitable
                        continue
                elif plain is not None:
                    field_path = Path(path, response_name, type_name)
                    completed = self._complete_object_field(
                        plain,
                        parent_type,
                        source_value,
                        field_details_list,
                        field_path,
                        position_context,
                    )
                if completed is _MISSING:
                    completed = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        field_path or Path(path, response_name, type_name),
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
        graphql-core complete it (decided before any sub-field runs)."""
        if any(details.node.directives for details in field_details_list):
            return _MISSING  # @include/@skip are already applied; @defer/@stream are not ours
        try:
            value = plain.read(source)
        except Exception:
            return _MISSING
        if self.is_awaitable(value):
            # A method that had to load its answer (a log's key not preloaded): completed by
            # graphql-core, as it completes any resolver's awaitable.
            nodes = [details.node for details in field_details_list]
            field_def = parent_type.fields[nodes[0].name.value]
            info = self.build_resolve_info(field_def, nodes, parent_type, path)
            return self.complete_awaitable_value(
                plain.return_type, field_details_list, info, path, value, position_context
            )
        if value is None:
            return None if plain.nullable else _MISSING
        item_type = plain.item_type
        if item_type is None:
            if not self._is_object_of(plain.type, value):
                return _MISSING
            return self._guarded(
                plain.return_type,
                field_details_list,
                path,
                partial(
                    self._object, plain.type, field_details_list, path, value, position_context
                ),
            )
        if not isinstance(value, list | tuple):
            return _MISSING
        for item in value:
            if item is None:
                if not plain.item_nullable:
                    return _MISSING
            elif not self._is_object_of(plain.type, item):
                return _MISSING
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
