"""Parse each distinct query text once, and run the standard validation rules on it once.

Dashboards send the same few documents over and over; parsing the dashboard query and
running graphql's 30-odd standard rules on it cost about 4 ms of CPU per request. The
cache keeps, per query text and parse options (the token limit), the parsed document and
whether the standard rules found it valid. The request-specific rules the limit extensions
add (depth, aliases, NUL characters, cost: they read settings and variables) still run on
every request; those that do their work when constructed (they walk the document with
their own memoised walkers and define no enter/leave hooks) are only constructed, without
graphql-core's full document visit (~1.5 ms for a dashboard query). Only valid documents
are remembered, so every error is produced afresh; the cache is bounded (least recently
used entries go first).
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

MAX_DOCUMENTS = 256
_STANDARD_RULES = frozenset(specified_rules)


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    # Standard rule sets (as run) that found the document valid.
    valid_for: set[tuple[type[ASTValidationRule], ...]] = field(default_factory=set)


_documents: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()


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
            entry = _documents[key] = _Entry(document)
            while len(_documents) > MAX_DOCUMENTS:
                _documents.popitem(last=False)
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
