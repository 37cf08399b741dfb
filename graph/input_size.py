"""Where a document or its variables hold a string over the size limit, found before parsing
the variables' values or running anything.

String literals are read by graphql-core's lexer in Python, character by character, so a
long literal costs seconds of CPU (docs/PERFORMANCE.md); variables arrive as JSON, parsed in
C, but a long string still costs memory and database work. Both are bounded by
AIZE_MAX_STRING_BYTES, except input fields declared with `LARGE_TEXT` (the request and
response bodies the gateway logs): those are only bounded by the request's size
(AIZE_MAX_REQUEST_BYTES), as on POST /ingest/bulk. A large text must then come as a
variable; as a literal it is bounded like any string.

Paths name the place: `usage.filter.models[0]` for a literal (field, argument, input fields,
list indexes), `$records[3].model` for a variable. The variables may also hold at most
MAX_VARIABLE_VALUES values in all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    type_from_ast,
)
from graphql.language import ExecutableDefinitionNode

# Values (strings, numbers, list items, objects...) the variables may hold in all: parsing
# them is C, but checking and coercing each is Python. 1,000 ingest records take ~25,000.
MAX_VARIABLE_VALUES = 100_000
# Strawberry field metadata declaring an input field that may hold a large text.
LARGE_TEXT: dict[str, object] = {"aize_large_text": True}
_DEFINITION = "strawberry-definition"


def utf8_size_over(text: str, limit: int) -> bool:
    """Whether `text` takes more than `limit` bytes in UTF-8 (encoded only when in doubt)."""
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


def oversized_literal(document: DocumentNode, limit: int) -> tuple[str, StringValueNode] | None:
    """The path and node of a string literal longer than `limit` bytes, or None."""
    for path, node in _literals(document):
        if utf8_size_over(node.value, limit):
            return path, node
    return None


def _literals(document: DocumentNode) -> Iterator[tuple[str, StringValueNode]]:
    """Every string literal with its path; walked with an explicit stack (a document may
    nest as deep as its tokens allow)."""
    stack: list[tuple[str, Node]] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if variable.default_value is not None:
                    stack.append((f"${variable.variable.name.value}", variable.default_value))
        if isinstance(definition, ExecutableDefinitionNode):
            stack.append(("", definition.selection_set))
    while stack:
        path, node = stack.pop()
        if isinstance(node, StringValueNode):
            yield path, node
        elif isinstance(node, ListValueNode):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node.values))
        elif isinstance(node, ObjectValueNode):
            stack.extend((f"{path}.{field.name.value}", field.value) for field in node.fields)
        elif isinstance(node, SelectionSetNode):
            stack.extend((path, selection) for selection in node.selections)
        elif isinstance(node, FieldNode | InlineFragmentNode):
            if isinstance(node, FieldNode):
                name = (node.alias or node.name).value
                path = f"{path}.{name}" if path else name
                stack.extend(_arguments(path, node.arguments))
            for directive in node.directives or ():
                stack.extend(_arguments(f"{path}@{directive.name.value}", directive.arguments))
            if node.selection_set is not None:
                stack.append((path, node.selection_set))


def _arguments(path: str, arguments: Sequence[ArgumentNode] | None) -> list[tuple[str, Node]]:
    return [(f"{path}({argument.name.value})", argument.value) for argument in arguments or ()]


@dataclass(frozen=True, slots=True)
class VariablesRefusal:
    """Why the variables are refused: a message naming where, and the limit passed."""

    message: str
    limit: int


# A path as a chain of (parent, key) links: formatted only when a refusal names it.
_Path = tuple[Any, str | int] | str


def refuse_variables(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any],
    max_string_bytes: int,
    max_values: int = MAX_VARIABLE_VALUES,
) -> VariablesRefusal | None:
    """Why the operation's variables are too large, or None: a string over
    `max_string_bytes` (an input field declared LARGE_TEXT excepted), or more than
    `max_values` values in all. Variables the document does not declare are never read by
    graphql-core, so they are not walked either. Walked with an explicit stack: variables
    may nest deeper than Python recurses."""
    types: dict[str, GraphQLInputType | None] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                found = type_from_ast(schema, variable.type)
                types[variable.variable.name.value] = found  # type: ignore[assignment]
    stack: list[tuple[_Path, Any, GraphQLInputType | None]] = [
        (f"${name}", value, types[name]) for name, value in variables.items() if name in types
    ]
    large_text: dict[int, bool] = {}
    values = 0
    while stack:
        path, value, type_ = stack.pop()
        values += 1
        if values > max_values:
            return VariablesRefusal(
                f"The variables hold more than {max_values} values; send large batches of "
                "request logs to POST /ingest/bulk.",
                max_values,
            )
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(value, str):
            if utf8_size_over(value, max_string_bytes):
                return _string_refusal(path, max_string_bytes)
        elif isinstance(value, list):
            item_type = type_.of_type if isinstance(type_, GraphQLList) else type_
            stack.extend(((path, i), item, item_type) for i, item in enumerate(value))
        elif isinstance(value, dict):
            fields = type_.fields if isinstance(type_, GraphQLInputObjectType) else None
            for key, item in value.items():
                if isinstance(key, str) and utf8_size_over(key, max_string_bytes):
                    return _string_refusal((path, key), max_string_bytes)
                field = fields.get(key) if fields is not None else None
                if field is None:
                    # Unknown fields and JSON scalars: every string inside is bounded.
                    stack.append(((path, key), item, None))
                    continue
                exempt = large_text.get(id(field))
                if exempt is None:
                    exempt = large_text[id(field)] = _is_large_text(field.extensions)
                if not exempt:
                    stack.append(((path, key), item, field.type))
    return None


def _string_refusal(path: _Path, limit: int) -> VariablesRefusal:
    return VariablesRefusal(
        f"Variable '{_format_path(path)}' is longer than {limit} bytes (AIZE_MAX_STRING_BYTES).",
        limit,
    )


def _format_path(path: _Path) -> str:
    """`$records[3].errorMessage` from its chain of links."""
    parts: list[str] = []
    while not isinstance(path, str):
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return path + "".join(reversed(parts))


def _is_large_text(extensions: Mapping[str, Any] | None) -> bool:
    definition = (extensions or {}).get(_DEFINITION)
    metadata = getattr(definition, "metadata", None) or {}
    return all(metadata.get(key) == value for key, value in LARGE_TEXT.items())
