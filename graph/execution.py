"""The GraphQL executor: strawberry's, with a short path for plain scalar fields (and plain
lists of scalars).

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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any, cast

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
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# Where strawberry keeps a GraphQL field's own definition (GraphQLCoreConverter.DEFINITION_BACKREF).
_DEFINITION = "strawberry-definition"
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


def _coerce(type_: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    coerced = type_.coerce_output_value(value)
    return _MISSING if coerced is Undefined or coerced is None else coerced


@cache
def plain_leaves(schema: GraphQLSchema) -> dict[tuple[str, str], PlainLeaf]:
    """Every plain scalar/enum field of the schema's object types, by (type, field) name."""
    leaves: dict[tuple[str, str], PlainLeaf] = {}
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = (field.extensions or {}).get(_DEFINITION)
            read = _reader(definition) if isinstance(definition, StrawberryField) else None
            if read is None:
                continue
            nullable, inner = _nullable(field.type)
            item_nullable = None
            if isinstance(inner, GraphQLList):
                item_nullable, inner = _nullable(inner.of_type)
            if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
                leaves[(type_name, field_name)] = PlainLeaf(read, inner, nullable, item_nullable)
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
    """strawberry's executor; plain scalar fields are read and coerced directly."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """The object's fields: plain ones completed here, the rest by graphql-core, the
        answer keeping the selection's order."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        leaves = plain_leaves(self.schema)
        type_name = parent_type.name
        done: dict[str, Any] = {}
        rest: GroupedFieldSet | None = None
        for response_name, field_details_list in grouped_field_set.items():
            leaf = leaves.get((type_name, field_details_list[0].node.name.value))
            completed = _MISSING
            if leaf is not None:
                try:
                    completed = leaf.complete(source_value)
                except Exception:
                    # graphql-core's path runs it again and reports the error, located.
                    completed = _MISSING
            if completed is _MISSING:
                if rest is None:
                    rest = {}
                rest[response_name] = field_details_list
            else:
                done[response_name] = completed
        if rest is None:
            return done
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        order = tuple(grouped_field_set)
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _in_order(order, done, await cast(Awaitable[dict[str, Any]], others))

            return merged()
        return _in_order(order, done, cast(dict[str, Any], others))


def _in_order(
    order: tuple[str, ...], done: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """Both parts of an object's answer as one dict, in the selection's order (graphql-core
    leaves out a field it found undefined: so does this)."""
    if not done:
        return others
    return {
        key: done[key] if key in done else others[key]
        for key in order
        if key in done or key in others
    }
