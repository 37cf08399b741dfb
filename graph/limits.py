"""Query limits and the static query cost model (pure: a schema, a document, variables).

Cost model, in points (documented in SECURITY.md and docs/readme/limits.md):

- every selected field costs 1 (`__typename` costs 0); a field listed in `FIELD_WEIGHTS`
  (an aggregate that runs its own query over many rows) costs its weight instead;
- a list field multiplies the cost of its sub-selection by its size: the value of its
  `first`, `last` or `limit` argument (a literal, a variable or the argument's default;
  `first`/`last` left null mean the default page size, 50), otherwise `DEFAULT_LIST_SIZE`;
- a connection field (one taking `first`/`last`) passes its page size to the list fields
  directly beneath it (`edges`), so `pageInfo` and `totalCount` count once;
- sizes multiply down the tree (a list inside a list costs items x items);
- introspection fields (`__schema`, `__type`) cost 1 per selected field, never multiplied:
  their size is bounded by the schema, not by the data;
- a field selected twice (or through a fragment spread twice) costs twice, and every type
  condition of an abstract field is counted.

The requested cost is an estimate made before anything runs, and the one the per-query limit
applies to. The actual cost applies the same model to the response: list sizes are the
lengths actually returned, and fields absent from the response (skipped, on another type,
under a null parent) cost nothing. Where sizes come from arguments it is at most the
requested cost; a list whose size no argument bounds (trend buckets) can return more than
`DEFAULT_LIST_SIZE` items, and then the actual cost is the higher one. The rate limiter
charges the actual cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from settings import Settings

FIELD_COST = 1
# Items assumed for a list whose size no argument states (members, API keys, trend buckets).
DEFAULT_LIST_SIZE = 10
PAGE_SIZE_ARGUMENTS = ("first", "last")
MIN_PAGE_SIZE = 1
# Aggregates that each run a query over many log or rollup rows, by "Type.field"
# ("*.field": that field on every type).
AGGREGATE_WEIGHT = 10
FIELD_WEIGHTS: Mapping[str, int] = {
    "*.totalCount": AGGREGATE_WEIGHT,
    "ApiKey.usage": AGGREGATE_WEIGHT,
    "Member.usage": AGGREGATE_WEIGHT,
    "Organization.currentSpend": AGGREGATE_WEIGHT,
    "UsageReport.totals": AGGREGATE_WEIGHT,
    "UsageReport.trend": AGGREGATE_WEIGHT,
    "UsageReport.breakdown": AGGREGATE_WEIGHT,
    "UsageReport.latency": AGGREGATE_WEIGHT,
    "UsageReport.errors": AGGREGATE_WEIGHT,
    "UsageReport.comparison": AGGREGATE_WEIGHT,
}


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Per-query limits: nesting depth, aliases, lexical tokens, requested cost (points)."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_query_tokens,
            max_cost=settings.max_query_cost,
        )


@dataclass
class CostReport:
    """One request's cost in points, filled in as it runs; reported in `extensions.cost`."""

    limit: int | None = None
    requested: int | None = None
    actual: int | None = None

    def as_extension(self) -> dict[str, int]:
        """The known parts, keyed as clients read them.

        The token's remaining budget is left to the x-ratelimit-* headers, so the same
        query always gets the same body.
        """
        parts = {"requested": self.requested, "actual": self.actual, "limit": self.limit}
        return {key: value for key, value in parts.items() if value is not None}


@dataclass(frozen=True, slots=True)
class PageSizeProblem:
    """A `first`/`last` argument outside 1..MAX_PAGE_SIZE."""

    field: str
    argument: str
    value: int

    @property
    def message(self) -> str:
        # Worded like resolvers.pagination's own check, which this one runs ahead of.
        bounds = f"between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}"
        return f"{self.argument}: must be {bounds}, got {self.value}"


@dataclass(frozen=True, slots=True)
class RequestedCost:
    """The requested cost of one operation and the page-size arguments out of range."""

    points: int
    page_size_problems: tuple[PageSizeProblem, ...]


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The document's fragment definitions by name."""
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


class FragmentMeasure:
    """A number measured over a document's selection sets (nesting depth, aliases...), in
    which each fragment is measured once however often it is spread, and a fragment cycle
    or an unknown fragment counts 0 (graphql-core's own rules report those). Subclasses
    define `selection_set` and call `fragment` for spreads."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, int] = {}
        self.active: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None) -> int:
        raise NotImplementedError

    def fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0
        self.active.add(name)
        try:
            measured = self.selection_set(fragment.selection_set)
        finally:
            self.active.discard(name)
        self.memo[name] = measured
        return measured


def operations_of(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation that will run: the named one, or the only one; None when ambiguous."""
    operations = operations_of(document)
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> RequestedCost:
    """The operation's requested cost in points, before anything runs.

    Works on documents that may still be invalid (it runs beside validation): unknown
    fields cost nothing and fragment cycles are cut.
    """
    walker = _CostWalker(schema, document, operation, variables)
    root = schema.get_root_type(operation.operation)
    points = 0 if root is None else walker.selection_set(operation.selection_set, root, None)
    return RequestedCost(points, tuple(walker.problems.values()))


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    data: Mapping[str, Any] | None,
) -> int:
    """The cost in points of what the response holds (list sizes as returned)."""
    if data is None:
        return 0
    walker = _CostWalker(schema, document, operation, None)
    root = schema.get_root_type(operation.operation)
    return 0 if root is None else _measure(walker.actual_plan(operation.selection_set, root), data)


@dataclass(frozen=True, slots=True)
class _CostEntry:
    """One response key of a compiled selection set (see `_CostWalker.actual_plan`)."""

    key: str
    cost: int
    items: tuple[_CostEntry, ...] | None  # the plan of its value's objects; None for a leaf


def _measure(plan: tuple[_CostEntry, ...], data: Mapping[str, Any]) -> int:
    """The cost of one response object: every key present costs its entry's cost, plus,
    for an object or list value, each of its objects measured with the entry's plan."""
    total = 0
    for entry in plan:
        if entry.key not in data:
            continue
        total += entry.cost
        value = data[entry.key]
        if entry.items is None or value is None:
            continue
        for item in _flatten(value):
            if isinstance(item, Mapping):
                total += _measure(entry.items, item)
    return total


def unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    current: Any = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(current, GraphQLList)
        current = current.of_type
    named: GraphQLNamedType = current
    return named, is_list


def _fields(type_: GraphQLNamedType | None) -> Mapping[str, GraphQLField]:
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        fields: Mapping[str, GraphQLField] = type_.fields
        return fields
    return {}


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments_of(document)
        self.variables = dict(variables or {})
        self.variable_defaults: dict[str, Any] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        # Fragment costs are memoized: a fragment spread many times (or fragments spreading
        # each other) is walked once, so measuring stays linear in the document's size.
        self.memo: dict[tuple[str, int | None, bool], int] = {}
        self.active: set[str] = set()
        self.problems: dict[tuple[str, str, int], PageSizeProblem] = {}
        self.plans: dict[tuple[int, str | None], tuple[_CostEntry, ...]] = {}

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int | None,
        *,
        flat: bool = False,
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page, flat=flat)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type_condition(selection, parent)
                total += self.selection_set(selection.selection_set, condition, page, flat=flat)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page, flat=flat)
        return total

    def fragment(self, name: str, page: int | None, *, flat: bool) -> int:
        key = (name, page, flat)
        if key in self.memo:
            return self.memo[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0  # unknown fragment or a cycle: validation reports both
        self.active.add(name)
        try:
            condition = self._type_condition(fragment, None)
            cost = self.selection_set(fragment.selection_set, condition, page, flat=flat)
        finally:
            self.active.discard(name)
        self.memo[key] = cost
        return cost

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None, *, flat: bool
    ) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if flat or name.startswith("__"):
            return FIELD_COST + self.selection_set(node.selection_set, None, None, flat=True)
        definition = _fields(parent).get(name)
        if definition is None or parent is None:
            return 0
        weight = field_weight(parent.name, name)
        item_type, is_list = unwrap(definition.type)
        size = self._size(node, definition, f"{parent.name}.{name}", is_list=is_list)
        if node.selection_set is None:
            return weight
        if is_list:
            items = size if size is not None else (page if page is not None else DEFAULT_LIST_SIZE)
            return weight + items * self.selection_set(node.selection_set, item_type, None)
        return weight + self.selection_set(node.selection_set, item_type, size)

    def actual_plan(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        spreading: frozenset[str] = frozenset(),
    ) -> tuple[_CostEntry, ...]:
        """The selection set compiled for measuring responses: one entry per response key
        it may produce (fragments flattened in, each under its own type condition), each
        with what it costs when present and, for an object or list field, the plan of its
        items. Compiled once per selection set, so walking a page of 50 rows costs a dict
        lookup per field rather than a schema lookup per field and row."""
        if selection_set is None:
            return ()
        memo_key = (id(selection_set), None if parent is None else parent.name)
        cached = self.plans.get(memo_key)
        if cached is not None:
            return cached
        entries: list[_CostEntry] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                entry = self._actual_entry(selection, parent)
                if entry is not None:
                    entries.append(entry)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type_condition(selection, parent)
                entries.extend(self.actual_plan(selection.selection_set, condition, spreading))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:
                    condition = self._type_condition(fragment, None)
                    entries.extend(
                        self.actual_plan(fragment.selection_set, condition, spreading | {name})
                    )
        plan = tuple(entries)
        self.plans[memo_key] = plan
        return plan

    def _actual_entry(self, node: FieldNode, parent: GraphQLNamedType | None) -> _CostEntry | None:
        key = node.alias.value if node.alias else node.name.value
        name = node.name.value
        if name == "__typename":
            return None
        if name.startswith("__"):
            flat = FIELD_COST + self.selection_set(node.selection_set, None, None, flat=True)
            return _CostEntry(key, flat, None)
        definition = _fields(parent).get(name)
        if definition is None or parent is None:
            return None
        weight = field_weight(parent.name, name)
        if node.selection_set is None:
            return _CostEntry(key, weight, None)
        item_type, _ = unwrap(definition.type)
        return _CostEntry(key, weight, self.actual_plan(node.selection_set, item_type))

    def _type_condition(
        self,
        node: InlineFragmentNode | FragmentDefinitionNode,
        parent: GraphQLNamedType | None,
    ) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value)

    def _size(
        self, node: FieldNode, definition: GraphQLField, field_name: str, *, is_list: bool
    ) -> int | None:
        """Items the field asks for: its page size (checked to be 1..100), or the `limit`
        of a list field; None when no argument says."""
        for argument in PAGE_SIZE_ARGUMENTS:
            if argument not in definition.args:
                continue
            value = self._argument_value(node, argument)
            if value is None:
                default = definition.args[argument].default_value
                value = default if _is_int(default) else DEFAULT_PAGE_SIZE
            if not MIN_PAGE_SIZE <= value <= MAX_PAGE_SIZE:
                problem = PageSizeProblem(field_name, argument, value)
                self.problems[(field_name, argument, value)] = problem
                value = min(max(value, MIN_PAGE_SIZE), MAX_PAGE_SIZE)
            return value
        if is_list and "limit" in definition.args:
            value = self._argument_value(node, "limit")
            if value is None:
                default = definition.args["limit"].default_value
                value = default if _is_int(default) else None
            return None if value is None else max(value, 0)
        return None

    def _argument_value(self, node: FieldNode, argument: str) -> int | None:
        given = next((a for a in node.arguments or () if a.name.value == argument), None)
        if given is None:
            return None
        value_node = given.value
        if isinstance(value_node, VariableNode):
            name = value_node.name.value
            raw = self.variables.get(name, self.variable_defaults.get(name))
            return raw if _is_int(raw) else None
        if isinstance(value_node, IntValueNode):
            return int(value_node.value)
        return None


def field_weight(type_name: str, field_name: str) -> int:
    """What one selection of `type_name.field_name` costs itself, in points."""
    weight = FIELD_WEIGHTS.get(f"{type_name}.{field_name}")
    if weight is None:
        weight = FIELD_WEIGHTS.get(f"*.{field_name}", FIELD_COST)
    return weight


def _is_int(value: object) -> bool:
    # bool is an int subclass; graphql-core's Undefined default is neither.
    return isinstance(value, int) and not isinstance(value, bool)


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]
