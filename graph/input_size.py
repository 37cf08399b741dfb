"""Where a document or its variables hold a string over the size limit, found before parsing
the variables' values or running anything.

String literals are read by graphql-core's lexer in Python (about 170 ns a character, so a
10 MB literal took seconds); variables arrive as JSON, parsed in C, but a long string still
costs memory and database work. Both are bounded by AIZE_MAX_STRING_BYTES, except input
fields declared with `LARGE_TEXT` (the request and response bodies the gateway logs): those
are only bounded by the request's size (AIZE_MAX_REQUEST_BYTES), as on POST /ingest/bulk.
A large text must then come as a variable; as a literal it is bounded like any string.

Paths name the place: `usage.filter.models[0]` for a literal (field, argument, input
fields, list indexes), `$records[3].model` for a variable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


def oversized_variable(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any],
    limit: int,
) -> str | None:
    """The path of a string in `variables` over `limit` bytes (an input field
    declared LARGE_TEXT excepted), or None. Walked with an explicit stack: variables may
    nest deeper than Python recurses."""
    types: dict[str, GraphQLInputType | None] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                found = type_from_ast(schema, variable.type)
                types[variable.variable.name.value] = found  # type: ignore[assignment]
    stack: list[tuple[str, Any, GraphQLInputType | None]] = [
        (f"${name}", value, types.get(name)) for name, value in variables.items()
    ]
    while stack:
        path, value, type_ = stack.pop()
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(value, str):
            if utf8_size_over(value, limit):
                return path
        elif isinstance(value, list):
            item_type = type_.of_type if isinstance(type_, GraphQLList) else type_
            stack.extend((f"{path}[{i}]", item, item_type) for i, item in enumerate(value))
        elif isinstance(value, dict):
            fields = type_.fields if isinstance(type_, GraphQLInputObjectType) else None
            for key, item in value.items():
                item_path = f"{path}.{key}"
                if isinstance(key, str) and utf8_size_over(key, limit):
                    return item_path
                field = fields.get(key) if fields is not None else None
                if field is not None and _is_large_text(field.extensions):
                    continue
                # Unknown fields and JSON scalars: every string inside is bounded.
                stack.append((item_path, item, field.type if field is not None else None))
    return None


def _is_large_text(extensions: Mapping[str, Any] | None) -> bool:
    definition = (extensions or {}).get(_DEFINITION)
    metadata = getattr(definition, "metadata", None) or {}
    return all(metadata.get(key) == value for key, value in LARGE_TEXT.items())
