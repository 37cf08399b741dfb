"""The size of an introspection answer (`__schema`, `__type`), counted before it runs.

Introspection answers come from the schema, not the data, so their size is known exactly:
the counter walks the selection over the schema's own objects with graphql-core's
introspection resolvers (the ones execution will call) and counts what the response will
hold, by the cost model of `graph.limits`: 1 point and 1 node per field, 1 point per item
of a list of scalars, 1 node per list item. Fifteen aliased copies of `types { fields ... }`
cost fifteen times one.

Each (selection set, schema object) pair is counted once and remembered, so a document
nesting `type { fields { type { fields ... } } }` is counted in time bounded by the schema's
size times the document's; past `ceiling` resolver calls the count stops (`TooLarge`): the
answer is then at least that big, and refused anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)


# Not frozen: a frozen dataclass's __init__ is several times slower, and sizes are added up
# once per field of every introspection answer counted. Treated as immutable all the same.
@dataclass(slots=True)
class Size:
    """A selection's cost in points and the response nodes (fields and list items) it makes."""

    points: int = 0
    nodes: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(self.points + other.points, self.nodes + other.nodes)

    def times(self, count: int) -> Size:
        return Size(self.points * count, self.nodes * count)


class TooLarge(Exception):
    """The introspection answer is larger than the counter's ceiling."""


ArgumentsOf = Callable[[FieldNode], dict[str, Any]]


class IntrospectionCounter:
    """Counts introspection selections of one document over one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        arguments_of: ArgumentsOf,
        ceiling: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.arguments_of = arguments_of
        self.ceiling = ceiling
        self.calls = 0
        self.memo: dict[tuple[int, int], Size] = {}
        self.active: set[str] = set()
        # graphql-core's introspection resolvers read only `info.schema` (possibleTypes);
        # an implementation detail of graphql-core 3.3 we rely on to call them directly.
        self.info = SimpleNamespace(schema=schema)

    def count(
        self, selection_set: SelectionSetNode | None, type_: GraphQLObjectType, source: Any
    ) -> Size:
        """What `selection_set` on the introspection object `source` (of `type_`) returns."""
        if selection_set is None:
            return Size()
        key = (id(selection_set), _identity(source))
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        total = Size()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, type_, source)
            elif isinstance(selection, InlineFragmentNode):
                total += self.count(selection.selection_set, type_, source)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, type_, source)
        self.memo[key] = total
        return total

    def _fragment(self, name: str, type_: GraphQLObjectType, source: Any) -> Size:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return Size()  # validation reports unknown fragments and cycles
        self.active.add(name)
        try:
            return self.count(fragment.selection_set, type_, source)
        finally:
            self.active.discard(name)

    def _field(self, node: FieldNode, type_: GraphQLObjectType, source: Any) -> Size:
        name = node.name.value
        if name == "__typename":
            return Size(0, 1)
        definition = type_.fields.get(name)
        if definition is None or definition.resolve is None:
            return Size()
        self.calls += 1
        if self.calls > self.ceiling:
            raise TooLarge
        try:
            value = definition.resolve(source, self.info, **self.arguments_of(node))
        except (TypeError, KeyError):
            return Size(1, 1)  # bad arguments: validation refuses the document
        return self.value(node, definition.type, value)

    def value(self, node: FieldNode, output_type: Any, value: Any) -> Size:
        """A field's own point and node plus what its value holds."""
        own = Size(1, 1)
        if value is None:
            return own
        item_type, is_list = _unwrap(output_type)
        child = node.selection_set
        if is_list:
            items = list(value)
            if child is None or not isinstance(item_type, GraphQLObjectType):
                return own + Size(len(items), len(items))
            total = own + Size(0, len(items))
            for item in items:
                total += self.count(child, item_type, item)
            return total
        if child is None or not isinstance(item_type, GraphQLObjectType):
            return own
        return own + self.count(child, item_type, value)


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _identity(source: Any) -> int:
    # Fields, arguments and enum values come as fresh (name, definition) pairs on every
    # call; the definition object is what stays the same.
    if isinstance(source, tuple) and len(source) == 2:
        return id(source[1])
    return id(source)
