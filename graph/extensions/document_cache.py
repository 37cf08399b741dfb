"""Parse each distinct query text once, and run the standard validation rules on it once.

Dashboards send the same few documents over and over; parsing the dashboard query and
running graphql's 30-odd standard rules on it cost about 4 ms of CPU per request. The
cache keeps, per query text and parse options (the token limit), the parsed document and
whether the standard rules found it valid. The request-specific rules the limit extensions
add (depth, aliases, NUL characters, cost: they read settings and variables) still run on
every request. Only valid documents are remembered, so every error is produced afresh; the
cache is bounded (least recently used entries go first).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import ASTValidationRule, DocumentNode, specified_rules, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

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
                errors = validate(schema, document, specific)
        execution.pre_execution_errors = errors
        yield
