"""What the gateway submits: records as received, and the per-record verdicts sent back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which adds up
# over a bulk body's thousands of lines.
@dataclass(slots=True)
class Submitted:
    """One record as received, before validation.

    `position` is its 0-based index in the batch; `line` its 1-based line number in a JSON
    lines body (None for the GraphQL mutation). `fields` maps camelCase names to values.
    """

    position: int
    line: int | None
    fields: Any


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one record was not stored. `field` is a camelCase path, None for a whole line."""

    position: int
    line: int | None
    field: str | None
    reason: str


@dataclass(slots=True)
class IngestOutcome:
    """A batch's verdict, returned only after the accepted records are committed."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
