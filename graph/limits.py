"""Query limits and the static query cost model (pure: a schema, a document, variables, and
the request's "now" and organization for relative periods).

Cost model, in points (documented in SECURITY.md and docs/readme/limits.md):

- every selected field costs 1 (`__typename` costs 0); a field listed in `FIELD_WEIGHTS`
  (an aggregate that runs its own query over many rows) costs its weight instead;
- a list field multiplies the cost of its sub-selection by its size, and a list of scalars
  costs 1 more per item. Every list of the product schema has a size known before running
  (`graph.cost_sizes`): `first`/`last` of a connection (1-100, null = 50; passed to the list
  directly beneath it, `edges`, so `pageInfo` and `totalCount` count once), a `limit`, a
  trend's buckets from the usage filter's period resolved as the resolvers resolve it,
  a split trend's series, or a fixed bound; a list of another schema no rule knows counts
  `DEFAULT_LIST_SIZE`;
- sizes multiply down the tree (a list inside a list costs items x items);
- introspection fields (`__schema`, `__type`) are counted over the schema itself with the
  same rules (`graph.cost_introspection`): their lists have the schema's real sizes;
- a field selected twice (or through a fragment spread twice) costs twice, and every type
  condition of an abstract field is counted.

The same walk counts response nodes: every field (`__typename` included) and every list
item, limited by AIZE_MAX_RESPONSE_NODES as the points are by AIZE_MAX_QUERY_COST.

The requested cost is the prediction made before anything runs, the one the limits apply
to. The actual cost applies the same model to the response: list sizes are the lengths
actually returned, and fields absent from the response (skipped, on another type, under a
null parent) cost nothing. Every size being an upper bound, actual <= requested, in points
and in nodes (tests/test_limits_cost_property.py). The rate limiter charges the actual cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    Undefined,
    VariableNode,
    get_introspection_query,
    parse,
    value_from_ast_untyped,
)

from graph.cost_introspection import IntrospectionCounter, Size, TooLarge
from graph.cost_sizes import PredictionClock, SizeFrame, SizeRules, has_threshold, scans_raw_rows
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from settings import Settings

FIELD_COST = 1
# Items assumed for a list no rule of graph.cost_sizes bounds; every list of the product
# schema has a rule (a test checks it), so only other schemas (tests' probe) use this.
DEFAULT_LIST_SIZE = 10
# How far an introspection answer is counted before it is known to be too large.
DEFAULT_CEILING = 1_000_000
_ROOT_FRAME = SizeFrame()
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
# What an aggregate or a log page costs instead when it must scan raw request logs (a
# threshold in its usage filter, or a log search): no rollup or ordered index bounds the
# rows it reads, only the request timeout (graph.cost_sizes.scans_raw_rows).
RAW_SCAN_WEIGHT = 250


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Per-query limits: nesting depth, aliases, lexical tokens, requested cost (points),
    response nodes (fields and list items)."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    max_nodes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_query_tokens,
            max_cost=settings.max_query_cost,
            max_nodes=settings.max_response_nodes,
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
    """The requested cost of one operation (points), the response nodes it can make, and
    the page-size arguments out of range."""

    points: int
    nodes: int
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


def only_introspection(operation: OperationDefinitionNode) -> bool:
    """Whether every root field of the operation is `__schema`, `__type` or `__typename`."""
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in operation.selection_set.selections
    )


@functools.cache
def full_introspection_cost(schema: GraphQLSchema) -> int:
    """Points of the standard introspection query (graphql-core's, with descriptions and
    deprecated input values) over `schema`: what GraphiQL and code generators send. An
    introspection-only operation's limit is never below it, so tools can always read the
    schema however it grows; two aliased copies cost twice as much and stay refused."""
    document = parse(get_introspection_query(descriptions=True, input_value_deprecation=True))
    operation = operations_of(document)[0]
    return requested_cost(schema, document, operation, None).points


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    clock: PredictionClock | None = None,
    ceiling: int = DEFAULT_CEILING,
) -> RequestedCost:
    """The operation's requested cost in points and response nodes, before anything runs.

    `clock` resolves relative periods (trend buckets) as the request will; without one,
    now and UTC. Works on documents that may still be invalid (it runs beside validation):
    unknown fields cost nothing and fragment cycles are cut. An introspection answer is
    counted only up to `ceiling` resolver calls, then reported as `ceiling` + 1.
    """
    clock = clock or PredictionClock(datetime.now(UTC))
    walker = _CostWalker(schema, document, operation, variables, clock, ceiling)
    root = schema.get_root_type(operation.operation)
    size = Size() if root is None else walker.selection_set(operation.selection_set, root, None)
    return RequestedCost(size.points, size.nodes, tuple(walker.problems.values()))


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    data: Mapping[str, Any] | None,
    variables: Mapping[str, Any] | None = None,
) -> Size:
    """The cost in points and the nodes of what the response holds (lists as returned);
    `variables` tell which fields scanned raw logs (a threshold or search in a variable)."""
    if data is None:
        return Size()
    walker = _CostWalker(schema, document, operation, variables, None, DEFAULT_CEILING)
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Size()
    return _measure(walker.actual_plan(operation.selection_set, root), data)


@dataclass(frozen=True, slots=True)
class _CostEntry:
    """One response key of a compiled selection set (see `_CostWalker.actual_plan`)."""

    key: str
    cost: int
    items: tuple[_CostEntry, ...] | None  # the plan of its value's objects; None for a leaf


def _measure(plan: tuple[_CostEntry, ...], data: Mapping[str, Any]) -> Size:
    """What one response object holds: every key present is a node costing its entry's
    cost; a list's items are nodes, a scalar item also costs 1; objects are measured with
    the entry's plan."""
    points = nodes = 0
    for entry in plan:
        if entry.key not in data:
            continue
        points += entry.cost
        nodes += 1
        value = data[entry.key]
        if value is None:
            continue
        items = _flatten(value) if isinstance(value, list) else None
        if items is not None:
            nodes += len(items)
        for item in items if items is not None else [value]:
            if isinstance(item, Mapping) and entry.items is not None:
                inner = _measure(entry.items, item)
                points, nodes = points + inner.points, nodes + inner.nodes
            elif items is not None:
                points += 1
    return Size(points, nodes)


def unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    current: Any = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(current, GraphQLList)
        current = current.of_type
    named: GraphQLNamedType = current
    return named, is_list


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        clock: PredictionClock | None,
        ceiling: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments_of(document)
        defaults: dict[str, Any] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        self.variables = {**defaults, **(variables or {})}
        self.sizes = SizeRules(schema, clock or PredictionClock(datetime.now(UTC)))
        self.introspection = IntrospectionCounter(
            schema, self.fragments, self._introspection_arguments, ceiling
        )
        self.ceiling = ceiling
        # Fragment costs are memoized: a fragment spread many times (or fragments spreading
        # each other) is walked once, so measuring stays linear in the document's size.
        self.memo: dict[tuple[str, int | None, SizeFrame], Size] = {}
        self.active: set[str] = set()
        self.problems: dict[tuple[str, str, int], PageSizeProblem] = {}
        self.plans: dict[tuple[int, str | None, bool], tuple[_CostEntry, ...]] = {}

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int | None,
        frame: SizeFrame = _ROOT_FRAME,
    ) -> Size:
        if selection_set is None:
            return Size()
        total = Size()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page, frame)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type_condition(selection, parent)
                total += self.selection_set(selection.selection_set, condition, page, frame)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page, frame)
        return total

    def fragment(self, name: str, page: int | None, frame: SizeFrame) -> Size:
        key = (name, page, frame)
        if key in self.memo:
            return self.memo[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return Size()  # unknown fragment or a cycle: validation reports both
        self.active.add(name)
        try:
            condition = self._type_condition(fragment, None)
            cost = self.selection_set(fragment.selection_set, condition, page, frame)
        finally:
            self.active.discard(name)
        self.memo[key] = cost
        return cost

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page: int | None,
        frame: SizeFrame,
    ) -> Size:
        name = node.name.value
        if name == "__typename":
            return Size(0, 1)
        definition = _field_definition(parent, name)
        if definition is None or parent is None:
            return Size()
        if name in ("__schema", "__type"):
            return self._introspection(node, definition)

        def arguments(argument: str) -> Any:
            return self._argument(node, definition, argument)

        weight = scanned_weight(parent.name, name, arguments, frame.raw_scan)
        own = Size(weight, 1)
        item_type, is_list = unwrap(definition.type)
        size = self._size(node, definition, f"{parent.name}.{name}", is_list=is_list)

        child_frame = self.sizes.frame_for(parent.name, name, arguments, frame)
        if not is_list:
            return own + self.selection_set(node.selection_set, item_type, size, child_frame)
        ruled = self.sizes.list_size(parent.name, name, arguments, frame)
        items = next(n for n in (ruled, size, page, DEFAULT_LIST_SIZE) if n is not None)
        if node.selection_set is None:
            return own + Size(items, items)
        inner = self.selection_set(node.selection_set, item_type, None, child_frame)
        return own + Size(0, items) + inner.times(items)

    def _introspection(self, node: FieldNode, definition: GraphQLField) -> Size:
        if node.name.value == "__schema":
            source: Any = self.schema
        else:
            type_name = self._introspection_arguments(node).get("name")
            source = self.schema.get_type(type_name) if isinstance(type_name, str) else None
        try:
            return self.introspection.value(node, definition.type, source)
        except TooLarge:
            return Size(self.ceiling + 1, self.ceiling + 1)

    def _introspection_arguments(self, node: FieldNode) -> dict[str, Any]:
        return {
            argument.name.value: value_from_ast_untyped(argument.value, self.variables)
            for argument in node.arguments or ()
        }

    def actual_plan(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        spreading: frozenset[str] = frozenset(),
        raw_scan: bool = False,
    ) -> tuple[_CostEntry, ...]:
        """The selection set compiled for measuring responses: one entry per response key
        it may produce (fragments flattened in, each under its own type condition), each
        with what it costs when present and, for an object or list field, the plan of its
        items. Compiled once per selection set, so walking a page of 50 rows costs a dict
        lookup per field rather than a schema lookup per field and row."""
        if selection_set is None:
            return ()
        memo_key = (id(selection_set), None if parent is None else parent.name, raw_scan)
        cached = self.plans.get(memo_key)
        if cached is not None:
            return cached
        entries: list[_CostEntry] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                entry = self._actual_entry(selection, parent, raw_scan)
                if entry is not None:
                    entries.append(entry)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type_condition(selection, parent)
                entries.extend(
                    self.actual_plan(selection.selection_set, condition, spreading, raw_scan)
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:
                    condition = self._type_condition(fragment, None)
                    entries.extend(
                        self.actual_plan(
                            fragment.selection_set, condition, spreading | {name}, raw_scan
                        )
                    )
        plan = tuple(entries)
        self.plans[memo_key] = plan
        return plan

    def _actual_entry(
        self, node: FieldNode, parent: GraphQLNamedType | None, raw_scan: bool
    ) -> _CostEntry | None:
        key = node.alias.value if node.alias else node.name.value
        name = node.name.value
        if name == "__typename":
            return _CostEntry(key, 0, None)
        definition = _field_definition(parent, name)
        if definition is None or parent is None:
            return None

        def arguments(argument: str) -> Any:
            return self._argument(node, definition, argument)

        weight = scanned_weight(parent.name, name, arguments, raw_scan)
        if node.selection_set is None:
            return _CostEntry(key, weight, None)
        item_type, _ = unwrap(definition.type)
        below = raw_scan or (
            f"{parent.name}.{name}" == "Organization.usage" and has_threshold(arguments("filter"))
        )
        return _CostEntry(
            key, weight, self.actual_plan(node.selection_set, item_type, raw_scan=below)
        )

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
            value = self._int_argument(node, argument)
            if value is None:
                default = definition.args[argument].default_value
                value = default if _is_int(default) else DEFAULT_PAGE_SIZE
            if not MIN_PAGE_SIZE <= value <= MAX_PAGE_SIZE:
                problem = PageSizeProblem(field_name, argument, value)
                self.problems[(field_name, argument, value)] = problem
                value = min(max(value, MIN_PAGE_SIZE), MAX_PAGE_SIZE)
            return value
        if is_list and "limit" in definition.args:
            value = self._int_argument(node, "limit")
            if value is None:
                default = definition.args["limit"].default_value
                value = default if _is_int(default) else None
            return None if value is None else max(value, 0)
        return None

    def _int_argument(self, node: FieldNode, argument: str) -> int | None:
        given = next((a for a in node.arguments or () if a.name.value == argument), None)
        if given is None:
            return None
        value_node = given.value
        if isinstance(value_node, VariableNode):
            raw = self.variables.get(value_node.name.value)
            return raw if _is_int(raw) else None
        if isinstance(value_node, IntValueNode):
            return int(value_node.value)
        return None

    def _argument(self, node: FieldNode, definition: GraphQLField, argument: str) -> Any:
        """An argument as sent (variables substituted), else its schema default, else None."""
        given = next((a for a in node.arguments or () if a.name.value == argument), None)
        if given is not None:
            value = value_from_ast_untyped(given.value, self.variables)
            return None if value is Undefined else value
        declared = definition.args.get(argument)
        default = None if declared is None else declared.default_value
        return None if default is Undefined else default


def field_weight(type_name: str, field_name: str) -> int:
    """What one selection of `type_name.field_name` costs itself, in points."""
    weight = FIELD_WEIGHTS.get(f"{type_name}.{field_name}")
    if weight is None:
        weight = FIELD_WEIGHTS.get(f"*.{field_name}", FIELD_COST)
    return weight


def scanned_weight(
    type_name: str, field_name: str, arguments: Callable[[str], Any], inside_raw_report: bool
) -> int:
    """`field_weight`, or RAW_SCAN_WEIGHT for an aggregate or log page that must scan raw
    request logs (graph.cost_sizes.scans_raw_rows)."""
    weight = field_weight(type_name, field_name)
    key = f"{type_name}.{field_name}"
    if (weight > FIELD_COST or key == "Organization.requestLogs") and scans_raw_rows(
        key, arguments, inside_raw_report
    ):
        return RAW_SCAN_WEIGHT
    return weight


def _is_int(value: object) -> bool:
    # bool is an int subclass; graphql-core's Undefined default is neither.
    return isinstance(value, int) and not isinstance(value, bool)


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]
