"""Parse each distinct query text once, and run the standard validation rules on it once.

Dashboards send the same few documents over and over, and parsing one and running graphql's
30-odd standard rules on it is a large share of a cheap request's CPU (docs/PERFORMANCE.md,
"Figures behind design choices"). The cache keeps, per query text and parse options (the
token limit), the parsed document and whether the standard rules found it valid. The
request-specific rules the limit extensions add (depth, aliases, NUL characters, cost: they
read settings and variables) still run on every request; those that do their work when
constructed (they walk the document with their own memoised walkers and define no
enter/leave hooks) are only constructed, without graphql-core's full document visit. Only
valid documents are remembered, so every error is produced afresh; the cache is bounded
(least recently used entries go first) in entries and in bytes of query text
(AIZE_DOCUMENT_CACHE_BYTES: a parsed document takes about three times its text); a text over
1/32 of that is not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ParallelVisitor,
    TypeInfo,
    TypeInfoVisitor,
    ValidationContext,
    specified_rules,
    validate,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from graph.extensions.request_state import settings_of

MAX_DOCUMENTS = 256
# A cached text may take at most this share of the cache's bytes.
ENTRY_SHARE = 32
_STANDARD_RULES = frozenset(specified_rules)


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    # The query text's length, counted against the cache's bytes.
    size: int
    # Standard rule sets (as run) that found the document valid.
    valid_for: set[tuple[type[ASTValidationRule], ...]] = field(default_factory=set)


_documents: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
_cached_bytes = 0


def cached_bytes() -> int:
    """Bytes of query text the cache holds now (UTF-8 length)."""
    return _cached_bytes


def _key(schema: object, query: str, parse_options: Mapping[str, Any]) -> tuple[object, ...]:
    return (schema, query, tuple(sorted(parse_options.items())))


class DocumentCache(SchemaExtension):
    """Must come after every extension that sets parse options or adds validation rules."""

    _entry: _Entry | None = None

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        query = execution.query
        if query is None or execution.graphql_document is not None:
            yield
            return
        key = _key(execution.schema, query, execution.parse_options)
        entry = _documents.get(key)
        if entry is not None:
            _documents.move_to_end(key)
            execution.graphql_document = entry.document
        yield
        document = execution.graphql_document
        if entry is None and document is not None and not execution.pre_execution_errors:
            size = len(query.encode("utf-8", "surrogatepass"))
            capacity = settings_of(execution).document_cache_bytes
            entry = _remember(key, document, size, capacity)
        self._entry = entry

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        entry, document = self._entry, execution.graphql_document
        if entry is None or document is not entry.document or execution.pre_execution_errors:
            yield
            return
        rules = tuple(execution.validation_rules)
        standard = tuple(r for r in rules if r in _STANDARD_RULES)
        specific = tuple(r for r in rules if r not in _STANDARD_RULES)
        schema = execution.schema._schema
        errors = (
            [] if standard in entry.valid_for else validate_document(schema, document, standard)
        )
        if not errors:
            entry.valid_for.add(standard)
            if specific:
                errors = run_rules(schema, document, specific)
        execution.pre_execution_errors = errors
        yield


def validate_document(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """strawberry's validate_document (its two rules added to `rules`), with graphql-core's
    `hide_suggestions`: validation errors never suggest schema names ("Did you mean ...?")."""
    strawberry_rules = (MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, (*rules, *strawberry_rules), hide_suggestions=True)


def _remember(
    key: tuple[object, ...], document: DocumentNode, size: int, capacity: int
) -> _Entry | None:
    """Cache the document (evicting the least recently used first) within `capacity` bytes
    of query text, unless its own text (`size` bytes) takes more than its share."""
    global _cached_bytes
    if size > capacity // ENTRY_SHARE:
        return None
    entry = _documents[key] = _Entry(document, size)
    _cached_bytes += size
    while len(_documents) > MAX_DOCUMENTS or _cached_bytes > capacity:
        _, evicted = _documents.popitem(last=False)
        _cached_bytes -= evicted.size
    return entry


def run_rules(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The errors of `rules` on the document, in the order graphql's `validate` reports
    them (every rule constructed, then one visit), visiting only when a rule has hooks."""
    errors: list[GraphQLError] = []
    type_info = TypeInfo(schema)
    context = ValidationContext(schema, document, type_info, errors.append, hide_suggestions=True)
    instances = [rule(context) for rule in rules]
    visiting = [instance for instance in instances if _has_hooks(type(instance))]
    if visiting:
        visit(document, TypeInfoVisitor(type_info, ParallelVisitor(visiting)))
    return errors


def _has_hooks(rule: type[ASTValidationRule]) -> bool:
    return any(name.startswith(("enter", "leave")) for name in dir(rule))
